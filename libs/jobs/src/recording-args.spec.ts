import { recordingArgs, recordingNeedsVideoTranscode } from './recording-args';
import { contentTypeFor, recordingFileName, validateRecordingRequest, canTransition, newRecordingId, RECORDING_ID_RE } from './recording';

describe('recording ffmpeg arguments', () => {
  it('copies H.264 and Opus into fragmented MP4', () => {
    const a = recordingArgs({ format: 'mp4', audioOnly: false, videoCodec: 'h264', output: '/r/x.mp4' });
    expect(a).toEqual(expect.arrayContaining(['-f', 'ivf', '-i', 'pipe:0', '-f', 'ogg', '-i', 'pipe:3', '-c:v', 'copy', '-c:a', 'copy']));
    expect(a).toEqual(expect.arrayContaining(['-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000']));
    expect(a[a.length - 1]).toBe('/r/x.mp4');
  });
  it('re-encodes video only where the container needs it', () => {
    expect(recordingNeedsVideoTranscode('webm', 'h264')).toBe(true);
    expect(recordingNeedsVideoTranscode('webm', 'vp8')).toBe(false);
    expect(recordingNeedsVideoTranscode('mkv', 'h264')).toBe(false);
    expect(recordingNeedsVideoTranscode('mp4', 'vp8')).toBe(true);
    const webm = recordingArgs({ format: 'webm', audioOnly: false, videoCodec: 'h264', output: 'x.webm' });
    expect(webm).toEqual(expect.arrayContaining(['-c:v', 'libvpx', '-c:a', 'copy', '-f', 'webm', '-cluster_time_limit', '1000']));
  });
  it('audio-only skips all video work', () => {
    const a = recordingArgs({ format: 'mp4', audioOnly: true, output: 'x.mp4' });
    expect(a).not.toContain('pipe:0');
    expect(a.join(' ')).not.toMatch(/-c:v|libx264|libvpx/);
    expect(a).toEqual(expect.arrayContaining(['-map', '0:a']));
  });
});

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
