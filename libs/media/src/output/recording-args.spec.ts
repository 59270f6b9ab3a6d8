import { flagPairs, pairs } from '../../../../test/support/arg-pairs';
import { CONCAT_INPUT_OPTIONS, indexFrontOptions, recordingArgs, recordingNeedsVideoTranscode, thumbnailAtSeconds, thumbnailOptions } from './recording-args';

describe('recording ffmpeg arguments', () => {
  it('copies H.264 and Opus into fragmented MP4', () => {
    const a = recordingArgs({ format: 'mp4', audioOnly: false, videoCodec: 'h264', output: '/r/x.mp4' });
    expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs('-f', 'ivf', '-i', 'pipe:0', '-f', 'ogg', '-i', 'pipe:3', '-c:v', 'copy', '-c:a', 'copy')));
    expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs('-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000')));
    expect(a[a.length - 1]).toBe('/r/x.mp4');
  });
  it('re-encodes video only where the container needs it', () => {
    expect(recordingNeedsVideoTranscode('webm', 'h264')).toBe(true);
    expect(recordingNeedsVideoTranscode('webm', 'vp8')).toBe(false);
    expect(recordingNeedsVideoTranscode('mkv', 'h264')).toBe(false);
    expect(recordingNeedsVideoTranscode('mp4', 'vp8')).toBe(true);
    const webm = recordingArgs({ format: 'webm', audioOnly: false, videoCodec: 'h264', output: 'x.webm' });
    expect(flagPairs(webm)).toEqual(expect.arrayContaining(pairs('-c:v', 'libvpx', '-c:a', 'copy', '-f', 'webm', '-cluster_time_limit', '1000')));
  });
  it('audio-only skips all video work', () => {
    const a = recordingArgs({ format: 'mp4', audioOnly: true, output: 'x.mp4' });
    expect(a).not.toContain('pipe:0');
    expect(a.join(' ')).not.toMatch(/-c:v|libx264|libvpx/);
    expect(flagPairs(a)).toEqual(expect.arrayContaining(pairs('-map', '0:a')));
  });
});

describe('finishing a recording: ffmpeg options', () => {
  it('copies every stream and puts the index first: +faststart for MP4, Cues to the front for WebM and Matroska', () => {
    expect(indexFrontOptions('mp4')).toEqual(['-map', '0', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4']);
    expect(indexFrontOptions('webm')).toEqual(['-map', '0', '-c', 'copy', '-cues_to_front', '1', '-f', 'webm']);
    expect(indexFrontOptions('mkv').slice(-3)).toEqual(['1', '-f', 'matroska']);
    for (const f of ['mp4', 'webm', 'mkv'] as const) expect(indexFrontOptions(f).join(' ')).not.toMatch(/libx264|libvpx|-c:v/);
  });
  it('reads parts with the concat demuxer and fails on an unreadable part', () => {
    expect(CONCAT_INPUT_OPTIONS.join(' ')).toBe('-xerror -f concat -safe 0');
  });
  it('takes the thumbnail 1 s in, or in the middle of a short recording, as one JPEG frame', () => {
    expect(thumbnailAtSeconds(10)).toBe(1);
    expect(thumbnailAtSeconds(1.5)).toBe(0.75);
    expect(thumbnailAtSeconds(0)).toBe(0);
    const t = thumbnailOptions(1);
    expect(t.input).toEqual(['-ss', '1.000']);
    expect(flagPairs(t.output)).toEqual(expect.arrayContaining(pairs('-frames:v', '1', '-f', 'image2')));
  });
});
