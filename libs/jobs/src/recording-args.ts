import type { RecordingFormat } from './recording';
import { mixInputArgs } from '@app/media';

/**
 * ffmpeg arguments for a recording (pure). Input: the room's encoded mix as it arrives — video frames in IVF on stdin
 * (H.264 or VP8, copied), Opus in Ogg on fd 3 (copied). Output: a file that is playable at every moment (fragmented MP4
 * with 1 s fragments; Matroska/WebM clusters of at most 1 s), so a kill -9 loses at most the last second.
 * Video is re-encoded only when the container cannot hold the room's codec (H.264 in WebM, VP8 in MP4).
 */
export interface RecordingArgsOptions {
  format: RecordingFormat;
  audioOnly: boolean;
  videoCodec?: 'h264' | 'vp8';
  videoBitrateKbps?: number;
  output: string;
}

export function recordingNeedsVideoTranscode(format: RecordingFormat, codec: 'h264' | 'vp8'): boolean {
  return (format === 'webm' && codec !== 'vp8') || (format === 'mp4' && codec !== 'h264');
}

export function recordingArgs(o: RecordingArgsOptions): string[] {
  const args = ['-hide_banner', '-nostats', '-loglevel', 'warning', '-y'];
  args.push(...mixInputArgs({ audioOnly: o.audioOnly }));
  if (o.audioOnly) args.push('-map', '0:a');
  else {
    if (!o.videoCodec) throw new Error('videoCodec is required for a video recording');
    args.push('-map', '0:v', '-map', '1:a');
    if (!recordingNeedsVideoTranscode(o.format, o.videoCodec)) args.push('-c:v', 'copy');
    else if (o.format === 'webm') {
      const kbps = o.videoBitrateKbps ?? 1500;
      args.push('-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-threads', '1', '-b:v', `${kbps}k`, '-g', '60');
    } else args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '60', '-pix_fmt', 'yuv420p');
  }
  args.push('-c:a', 'copy');
  if (o.format === 'mp4') args.push('-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000', '-f', 'mp4');
  else args.push('-cluster_time_limit', '1000', '-f', o.format === 'webm' ? 'webm' : 'matroska');
  args.push('-flush_packets', '1', o.output);
  return args;
}
