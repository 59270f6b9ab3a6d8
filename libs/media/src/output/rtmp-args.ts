/**
 * ffmpeg arguments for an RTMP push (pure). Input: the room's encoded mix — video frames in IVF on stdin, Opus in Ogg
 * on fd 3. Output: FLV to the destination. H.264 video is copied; FLV cannot carry VP8, so a VP8 room's mix is
 * transcoded to H.264 (x264 veryfast, zerolatency, keyframe every second). Audio becomes AAC (FLV has no Opus).
 * `-progress pipe:1` reports output progress on stdout: the pusher is `active` only once that shows media written.
 * The URL is re-validated here and is the last argument, alone, after `-f flv`, so it is never read as an option.
 */
import { type VideoCodec, validateRtmpUrl } from '@app/core';
import { aacArgs, mixInputArgs, x264LiveArgs } from '../ffmpeg/ffmpeg-args';

export interface RtmpArgsOptions {
  videoCodec: VideoCodec;
  url: string;
  /** Video bitrate for a VP8 room's transcode (kbps). */
  videoBitrateKbps?: number;
  fps?: number;
  audioBitrateKbps?: number;
  /** Network read/write timeout: a destination that stops reading fails the attempt after this long. */
  ioTimeoutSeconds?: number;
}

export const rtmpNeedsVideoTranscode = (codec: VideoCodec): boolean => codec !== 'h264';

export function rtmpArgs(o: RtmpArgsOptions): string[] {
  const url = validateRtmpUrl(o.url);
  const args = ['-hide_banner', '-nostats', '-loglevel', 'warning', '-progress', 'pipe:1', ...mixInputArgs()];
  args.push('-map', '0:v', '-map', '1:a');
  if (!rtmpNeedsVideoTranscode(o.videoCodec)) args.push('-c:v', 'copy');
  else args.push(...x264LiveArgs('v', o.videoBitrateKbps ?? 1500, o.fps ?? 30));
  args.push(...aacArgs(o.audioBitrateKbps ?? 128));
  args.push('-rw_timeout', String(Math.round((o.ioTimeoutSeconds ?? 10) * 1_000_000)));
  args.push('-flvflags', 'no_duration_filesize', '-f', 'flv', url);
  return args;
}

/** Parses `-progress` output (key=value lines); returns the microseconds of media written so far, if reported. */
export function progressOutTimeUs(chunk: string): number | undefined {
  let out: number | undefined;
  for (const line of chunk.split('\n')) {
    const m = /^out_time_(?:us|ms)=(\d+)$/.exec(line.trim());
    if (m) out = Math.max(out ?? 0, Number(m[1]));
  }
  return out;
}
