import { contentTypeFor, recordingFileName, recordingOwnershipLost, recordingView, validateRecordingRequest, canTransition, newRecordingId, RECORDING_ID_RE } from './recording';

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
  it('tells a run when it no longer owns its recording: final status or another run id', () => {
    expect(recordingOwnershipLost({ status: 'active', runId: 'a' }, 'a')).toBeUndefined();
    expect(recordingOwnershipLost({ status: 'stopping', runId: 'a' }, 'a')).toBeUndefined();
    expect(recordingOwnershipLost({ status: 'failed', runId: 'a', error: 'the worker stopped responding' }, 'a')).toMatch(/already failed \(the worker stopped responding\)/);
    expect(recordingOwnershipLost({ status: 'ready', runId: 'a' }, 'a')).toMatch(/already ready/);
    expect(recordingOwnershipLost({ status: 'active', runId: 'b' }, 'a')).toMatch(/another worker run/);
    expect(recordingOwnershipLost({ status: 'active' }, 'a')).toMatch(/another worker run/);
  });
  it('keeps the run id and write count out of the public view', () => {
    const view = recordingView({ id: newRecordingId(), room: 'r', name: 'n', format: 'mp4', audioOnly: false, status: 'active', createdAt: '', seq: 3, rev: 9, runId: 'x' });
    expect(view).not.toHaveProperty('runId');
    expect(view).not.toHaveProperty('rev');
  });
});
