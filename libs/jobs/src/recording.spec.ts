import { contentTypeFor, recordingFileName, validateRecordingRequest, canTransition, newRecordingId, RECORDING_ID_RE } from './recording';

describe('recording model', () => {
  it('validates requests', () => {
    expect(validateRecordingRequest(undefined)).toEqual({ format: 'mp4', audioOnly: false });
    expect(validateRecordingRequest({ format: 'webm', audioOnly: true, name: 'Weekly' })).toEqual({ format: 'webm', audioOnly: true, name: 'Weekly' });
    expect(() => validateRecordingRequest({ format: 'avi' })).toThrow('format');
    expect(() => validateRecordingRequest({ audioOnly: 'yes' })).toThrow('audioOnly');
    expect(() => validateRecordingRequest({ path: '/etc/passwd' })).toThrow('unknown field');
  });
  it('names files from server ids only', () => {
    const id = newRecordingId();
    expect(id).toMatch(RECORDING_ID_RE);
    expect(recordingFileName(id, 'mkv')).toBe(`${id}.mkv`);
    expect(() => recordingFileName('../../etc/passwd', 'mp4')).toThrow();
  });
  it('follows the lifecycle', () => {
    expect(canTransition('queued', 'starting')).toBe(true);
    expect(canTransition('active', 'stopping')).toBe(true);
    expect(canTransition('stopping', 'ready')).toBe(true);
    expect(canTransition('active', 'failed')).toBe(true);
    expect(canTransition('ready', 'failed')).toBe(false);
    expect(canTransition('failed', 'active')).toBe(false);
    expect(canTransition('queued', 'active')).toBe(false);
  });
  it('has content types', () => {
    expect(contentTypeFor('mp4', false)).toBe('video/mp4');
    expect(contentTypeFor('mp4', true)).toBe('audio/mp4');
    expect(contentTypeFor('webm', false)).toBe('video/webm');
    expect(contentTypeFor('mkv', false)).toBe('video/x-matroska');
  });
});
