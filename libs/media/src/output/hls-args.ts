/**
 * ffmpeg arguments for a room's live HLS (pure). Input: the encoded mix (IVF video on stdin, Ogg Opus on fd 3).
 * Output: MPEG-TS segments of `segmentSeconds` (while an output takes it, the mix has a keyframe every second, so
 * copied H.264 cuts at whole seconds), a live playlist of `listSize` segments, older segments deleted, segments
 * written to a temporary name and renamed when complete (a viewer never reads half a segment). Audio becomes AAC.
 * VP8 (not allowed in TS) is transcoded.
 * With `lowRendition`, a second 640x360 ~400 kbps rendition is encoded and `index.m3u8` is the master playlist
 * listing `hi.m3u8` and `lo.m3u8`; otherwise `index.m3u8` is the media playlist itself.
 * Segment names start with `run` (unique per start), so a restarted output never reuses a cached segment's name.
 */
import * as path from 'node:path';
import type { VideoCodec } from '@app/core';
import { aacArgs, mixInputArgs, x264LiveArgs } from '../ffmpeg/ffmpeg-args';

export interface HlsArgsOptions {
  videoCodec: VideoCodec;
  dir: string;
  run: string;
  segmentSeconds: number;
  listSize: number;
  videoBitrateKbps?: number;
  fps?: number;
  lowRendition?: boolean;
}

export const HLS_RUN_RE = /^[a-z0-9]{1,16}$/;
/** Files a viewer may fetch: playlists and segments, nothing else (no paths, no dots but the extension). */
export const HLS_FILE_RE = /^(?:index|hi|lo)\.m3u8$|^[a-z0-9]{1,16}_(?:hi_|lo_)?\d{1,9}\.ts$/;

export function hlsArgs(o: HlsArgsOptions): string[] {
  if (!HLS_RUN_RE.test(o.run)) throw new Error('invalid HLS run id');
  const fps = o.fps ?? 30;
  const kbps = o.videoBitrateKbps ?? 1500;
  const gop = Math.max(1, Math.round(fps * Math.min(1, o.segmentSeconds)));
  const args = ['-hide_banner', '-nostats', '-loglevel', 'warning', ...mixInputArgs()];
  const x264 = (spec: string, rateKbps: number) => x264LiveArgs(spec, rateKbps, gop);
  const hls = ['-f', 'hls', '-hls_time', String(o.segmentSeconds), '-hls_list_size', String(o.listSize), '-hls_delete_threshold', '1'];
  hls.push('-hls_flags', 'delete_segments+independent_segments+omit_endlist+temp_file', '-hls_segment_type', 'mpegts', '-hls_allow_cache', '1');
  if (!o.lowRendition) {
    args.push('-map', '0:v', '-map', '1:a');
    if (o.videoCodec === 'h264') args.push('-c:v', 'copy');
    else args.push(...x264('v', kbps));
    args.push(...aacArgs(), ...hls);
    args.push('-hls_segment_filename', path.join(o.dir, `${o.run}_%d.ts`), path.join(o.dir, 'index.m3u8'));
    return args;
  }
  args.push('-map', '0:v', '-map', '1:a', '-map', '0:v', '-map', '1:a');
  if (o.videoCodec === 'h264') args.push('-c:v:0', 'copy');
  else args.push(...x264('v:0', kbps));
  args.push(...x264('v:1', 400), '-filter:v:1', 'scale=640:360', '-threads:v:1', '1');
  args.push(...aacArgs([128, 64]), ...hls);
  args.push('-var_stream_map', 'v:0,a:0,name:hi v:1,a:1,name:lo', '-master_pl_name', 'index.m3u8');
  args.push('-hls_segment_filename', path.join(o.dir, `${o.run}_%v_%d.ts`), path.join(o.dir, '%v.m3u8'));
  return args;
}

/**
 * A playlist as served: every URI line (segments, variant playlists) gets the viewer's token as `?token=`, so a plain
 * player that only knows the playlist URL can fetch everything else.
 */
export function playlistWithToken(playlist: string, token: string): string {
  const q = `token=${encodeURIComponent(token)}`;
  return playlist
    .split('\n')
    .map((line) => {
      const l = line.trim();
      if (!l || l.startsWith('#')) return line;
      return `${l}${l.includes('?') ? '&' : '?'}${q}`;
    })
    .join('\n');
}

/** Segment URIs listed in a media playlist, in order. */
export function playlistSegments(playlist: string): string[] {
  return playlist
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}
