/**
 * Pure builders of ffmpeg argument arrays (never a shell string). Each process of the mixer gets its arguments here,
 * so what runs is unit-tested and visible in one place.
 */
import type { Fit, VideoCodec } from '@app/core';
import { MAX_INPUT_PIXELS } from '../rtp/frame-size';

const base = (loglevel = 'error'): string[] => ['-hide_banner', '-nostats', '-loglevel', loglevel];

/** RGB (0-255) as ffmpeg colour syntax 0xRRGGBB. */
export const ffColor = ([r, g, b]: readonly [number, number, number]): string =>
  `0x${[r, g, b].map((v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, '0')).join('')}`;

export interface DecoderArgsOptions {
  codec: VideoCodec;
  tileWidth: number;
  tileHeight: number;
  /**
   * `cover`: scaled to cover the tile, the overflow cropped (centred), no bands. `contain` (default): the whole
   * picture, letterboxed with bands of padColor.
   */
  fit?: Fit;
  /** Colour of the letterbox bars (contain). */
  padColor: readonly [number, number, number];
  /**
   * Where the frames go: a Unix socket path ffmpeg listens on (the reader connects and reads straight into its frame
   * buffers, see VideoInput), or stdout when absent.
   */
  unixSocket?: string;
}

/**
 * One participant's decoder: encoded frames on stdin (IVF for VP8, Annex-B for H.264), raw yuv420p frames of exactly
 * tileWidth×tileHeight on a Unix socket it listens on (or stdout), covering the tile or letterboxed in it (see fitFilter), one
 * output frame per input frame (no frame-rate conversion: the compositor's clock decides what is shown).
 */
export function decoderArgs(o: DecoderArgsOptions): string[] {
  const { tileWidth: w, tileHeight: h } = o;
  if (w % 2 || h % 2 || w < 2 || h < 2) throw new RangeError(`tile size must be even and positive, got ${w}x${h}`);
  const demux = o.codec === 'vp8' ? ['-f', 'ivf'] : ['-f', 'h264'];
  return [
    ...base(),
    '-threads', '1',
    '-flags', 'low_delay',
    '-probesize', '32',
    '-analyzeduration', '0',
    // a picture over the input cap is refused by the decoder itself (VideoInput refuses those it can see first)
    '-max_pixels', String(MAX_INPUT_PIXELS),
    ...demux,
    '-i', 'pipe:0',
    '-an',
    '-vf',
    `${fitFilter(o.fit ?? 'contain', w, h, o.padColor)},format=yuv420p`,
    '-fps_mode', 'passthrough',
    // The rawvideo encoder is frame-threaded: with more than one thread it holds back (cores - 1) frames.
    '-threads', '1',
    '-f', 'rawvideo',
    '-pix_fmt', 'yuv420p',
    ...(o.unixSocket ? ['-listen', '1', `unix:${o.unixSocket}`] : ['pipe:1']),
  ];
}

/**
 * The filter that brings any source to exactly w×h: `cover` scales up to cover and crops the middle, `contain` scales
 * down to fit and pads (centred) with `padColor`.
 */
export function fitFilter(fit: Fit, w: number, h: number, padColor: readonly [number, number, number]): string {
  return fit === 'cover'
    ? `scale=${w}:${h}:force_original_aspect_ratio=increase:flags=bilinear,crop=${w}:${h}`
    : `scale=${w}:${h}:force_original_aspect_ratio=decrease:flags=bilinear,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=${ffColor(padColor)}`;
}

export interface EncoderArgsOptions {
  codec: VideoCodec;
  /** Size of the frames written to stdin (the room's canvas); scaled to width×height when it differs. */
  inputWidth?: number;
  inputHeight?: number;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  /**
   * The encoder's own keyframe interval in frames: only a safety net. Keyframes are forced by the caller (see
   * FORCE_KEYFRAME_EXPR), on request and periodically.
   */
  gop: number;
  rtpPort: number;
  payloadType: number;
  ssrc: number;
}

/** The 90 kHz tick added to a frame's pts to ask for a keyframe: the IVF input carries pts, and this is its only odd one. */
export const KEYFRAME_PTS_MARK = 1;
/**
 * ffmpeg's CLI cannot be told "keyframe now" at run time, but `-force_key_frames expr:` sees each frame's timestamp, and
 * we write the timestamps (IVF input, 90 kHz): frames are at even ticks, and a frame at an odd tick becomes an IDR.
 */
export const FORCE_KEYFRAME_EXPR = 'expr:eq(mod(round(t*90000),2),1)';

/**
 * One rendition's video encoder: raw yuv420p canvas frames in IVF (fourcc I420, 90 kHz pts) on stdin, scaled to the
 * rendition's size, encoded with keyframes where the caller marks them, RTP to a loopback UDP port we read.
 */
export function encoderArgs(o: EncoderArgsOptions): string[] {
  const kbps = o.bitrateKbps;
  const inW = o.inputWidth ?? o.width;
  const inH = o.inputHeight ?? o.height;
  if (o.width % 2 || o.height % 2 || inW % 2 || inH % 2) throw new RangeError(`encoder sizes must be even, got ${inW}x${inH} -> ${o.width}x${o.height}`);
  const codecArgs =
    o.codec === 'h264'
      ? [
          '-c:v', 'libx264',
          '-preset', 'ultrafast',
          '-tune', 'zerolatency',
          '-profile:v', 'baseline',
          '-level:v', h264Level(o.width, o.height, o.fps),
          '-pix_fmt', 'yuv420p',
          '-b:v', `${kbps}k`,
          '-maxrate', `${kbps}k`,
          '-bufsize', `${Math.max(1, Math.round(kbps / 2))}k`,
          '-x264-params', `nal-hrd=cbr:keyint=${o.gop}:min-keyint=${o.gop}:scenecut=0:repeat-headers=1`,
          '-forced-idr', '1',
          '-bf', '0',
        ]
      : [
          '-c:v', 'libvpx',
          '-deadline', 'realtime',
          '-cpu-used', '8',
          '-threads', '1',
          '-lag-in-frames', '0',
          '-error-resilient', '1',
          '-auto-alt-ref', '0',
          '-b:v', `${kbps}k`,
          '-minrate', `${kbps}k`,
          '-maxrate', `${kbps}k`,
          '-bufsize', `${Math.max(1, Math.round(kbps / 2))}k`,
          '-undershoot-pct', '95',
          '-keyint_min', String(o.gop),
        ];
  const scale = inW !== o.width || inH !== o.height ? ['-vf', `scale=${o.width}:${o.height}:flags=bilinear`] : [];
  return [
    ...base('warning'),
    '-probesize', '32',
    '-analyzeduration', '0',
    '-f', 'ivf',
    '-i', 'pipe:0',
    '-an',
    ...scale,
    // frames keep the timestamps we wrote (the keyframe mark among them); -r tells the rate control the frame rate
    '-fps_mode', 'passthrough',
    '-enc_time_base', '1:90000',
    '-r', String(o.fps),
    ...codecArgs,
    '-g', String(o.gop),
    '-force_key_frames', FORCE_KEYFRAME_EXPR,
    '-f', 'rtp',
    '-payload_type', String(o.payloadType),
    '-ssrc', String(o.ssrc),
    `rtp://127.0.0.1:${o.rtpPort}?pkt_size=1200`,
  ];
}

/** Smallest H.264 level that fits width×height at fps (by macroblocks per frame and per second). */
export function h264Level(width: number, height: number, fps: number): string {
  const mbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const levels: Array<[string, number, number]> = [
    ['3.0', 1620, 40500],
    ['3.1', 3600, 108000],
    ['3.2', 5120, 216000],
    ['4.0', 8192, 245760],
    ['4.2', 8704, 522240],
    ['5.1', 36864, 983040],
    ['5.2', 36864, 2073600],
  ];
  for (const [name, maxFs, maxMbps] of levels) if (mbs <= maxFs && mbs * fps <= maxMbps) return name;
  return '5.2';
}

export interface LabelSpec {
  /** A file holding the text (never put user text into a filter string: it would need escaping). */
  textFile: string;
  width: number;
  height: number;
  background: readonly [number, number, number];
  /** Where the yuv420p frame goes. */
  output: string;
}

/**
 * Name labels, several in one ffmpeg run (one process spawn per batch, not per label): each a width×height yuv420p
 * frame with the text of its file in white, centred, on a solid background, written raw to its output file.
 */
export function labelBatchArgs(labels: readonly LabelSpec[]): string[] {
  if (labels.length === 0) throw new RangeError('no labels to render');
  const inputs: string[] = [];
  const filters: string[] = [];
  const outputs: string[] = [];
  labels.forEach((l, i) => {
    const { width: w, height: h } = l;
    if (w % 2 || h % 2 || w < 2 || h < 2) throw new RangeError(`label size must be even and positive, got ${w}x${h}`);
    const fontSize = Math.max(8, Math.round(h * 0.62));
    inputs.push('-f', 'lavfi', '-i', `color=c=${ffColor(l.background)}:s=${w}x${h}:d=1`);
    // expansion=none: %{...} in a display name stays literal text
    filters.push(`[${i}:v]drawtext=textfile=${l.textFile}:expansion=none:fontcolor=white:fontsize=${fontSize}:x=max((w-text_w)/2\\,4):y=(h-text_h)/2,format=yuv420p[l${i}]`);
    outputs.push('-map', `[l${i}]`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-y', l.output);
  });
  return [...base(), ...inputs, '-filter_complex', filters.join(';'), ...outputs];
}

/**
 * The inputs of every output process (recorder, livestream pusher, HLS): the room's encoded mix as IVF video on stdin
 * and Ogg Opus on fd 3 (see MixPipeWriter); input 0 is video, 1 audio (audio only: input 0 is audio).
 */
export function mixInputArgs(o: { audioOnly?: boolean } = {}): string[] {
  const audio = ['-thread_queue_size', '512', '-f', 'ogg', '-i', 'pipe:3'];
  return o.audioOnly ? audio : ['-thread_queue_size', '512', '-f', 'ivf', '-i', 'pipe:0', ...audio];
}

/** Live x264 for an output that must re-encode (VP8 into FLV/TS, a low rendition): `spec` is 'v', 'v:0', 'v:1'. */
export function x264LiveArgs(spec: string, kbps: number, gop: number): string[] {
  // with one video stream ('v') the encoder options need no stream specifier
  const opt = (name: string) => (spec === 'v' ? `-${name}` : `-${name}:${spec}`);
  return [
    `-c:${spec}`, 'libx264', opt('preset'), 'veryfast', opt('tune'), 'zerolatency', opt('pix_fmt'), 'yuv420p',
    `-b:${spec}`, `${kbps}k`, opt('maxrate'), `${kbps}k`, opt('bufsize'), `${kbps * 2}k`, opt('g'), String(gop),
  ];
}

/** Opus → AAC for containers that need it (FLV, MPEG-TS); `perStream` gives each audio stream its own bitrate. */
export function aacArgs(kbps: number | number[] = 128): string[] {
  const rates = Array.isArray(kbps) ? kbps.flatMap((k, i) => [`-b:a:${i}`, `${k}k`]) : ['-b:a', `${kbps}k`];
  return ['-c:a', 'aac', ...rates, '-ar', '48000', '-ac', '2'];
}
