/**
 * A publisher's picture size, read from its keyframes (a VP8 key frame header, an H.264 SPS): the mixer needs it to
 * put a name label on the picture of a letterboxed (contain) tile rather than on a band. Pure, on bytes.
 */
import type { VideoCodec } from '@app/core';

export interface FrameSize {
  w: number;
  h: number;
}

/** Size of a VP8 key frame (RFC 6386 §9.1: 3-byte tag, start code 9d 01 2a, 14-bit width and height). */
export function vp8FrameSize(frame: Buffer): FrameSize | undefined {
  if (frame.length < 10 || (frame[0] & 0x01) !== 0) return undefined; // not a key frame
  if (frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) return undefined;
  const w = frame.readUInt16LE(6) & 0x3fff;
  const h = frame.readUInt16LE(8) & 0x3fff;
  return w > 0 && h > 0 ? { w, h } : undefined;
}

/** Reads the RBSP of a NAL unit (emulation prevention bytes removed) bit by bit, Exp-Golomb included. */
class BitReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  bit(): number {
    const byte = this.pos >> 3;
    if (byte >= this.bytes.length) throw new RangeError('SPS truncated');
    const b = (this.bytes[byte] >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) if (++zeros > 31) throw new RangeError('bad Exp-Golomb code');
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 ? (k + 1) / 2 : -k / 2;
  }
}

function unescapeRbsp(nal: Buffer): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0; // emulation_prevention_three_byte
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Picture size from an H.264 sequence parameter set NAL unit (header byte included), cropping applied (ITU-T H.264 §7.3.2.1.1). */
export function h264SpsSize(nal: Buffer): FrameSize | undefined {
  if (nal.length < 4 || (nal[0] & 0x1f) !== 7) return undefined;
  try {
    const r = new BitReader(unescapeRbsp(nal.subarray(1)));
    const profile = r.bits(8);
    r.bits(16); // constraint flags, level
    r.ue(); // seq_parameter_set_id
    let chromaFormat = 1;
    let separateColourPlane = 0;
    if (HIGH_PROFILES.has(profile)) {
      chromaFormat = r.ue();
      if (chromaFormat === 3) separateColourPlane = r.bit();
      r.ue(); // bit_depth_luma_minus8
      r.ue(); // bit_depth_chroma_minus8
      r.bit(); // qpprime_y_zero_transform_bypass_flag
      if (r.bit()) {
        // seq_scaling_matrix_present_flag: skip the scaling lists
        for (let i = 0; i < (chromaFormat !== 3 ? 8 : 12); i++) {
          if (!r.bit()) continue;
          let last = 8;
          let next = 8;
          for (let j = 0; j < (i < 6 ? 16 : 64) && next !== 0; j++) {
            next = (last + r.se() + 256) % 256;
            last = next === 0 ? last : next;
          }
        }
      }
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) {
      r.bit();
      r.se();
      r.se();
      const n = r.ue();
      for (let i = 0; i < n; i++) r.se();
    }
    r.ue(); // max_num_ref_frames
    r.bit(); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightMapUnits = r.ue() + 1;
    const frameMbsOnly = r.bit();
    if (!frameMbsOnly) r.bit(); // mb_adaptive_frame_field_flag
    r.bit(); // direct_8x8_inference_flag
    let [cl, cr, ct, cb] = [0, 0, 0, 0];
    if (r.bit()) [cl, cr, ct, cb] = [r.ue(), r.ue(), r.ue(), r.ue()];
    const arrayType = separateColourPlane ? 0 : chromaFormat;
    const cropX = arrayType === 0 ? 1 : chromaFormat === 3 ? 1 : 2;
    const cropY = (arrayType === 0 ? 1 : chromaFormat === 1 ? 2 : 1) * (2 - frameMbsOnly);
    const w = widthMbs * 16 - cropX * (cl + cr);
    const h = (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * (ct + cb);
    return w > 0 && h > 0 ? { w, h } : undefined;
  } catch {
    return undefined;
  }
}

/** The first SPS's picture size in an Annex-B access unit (start codes 00 00 01 / 00 00 00 01). */
export function h264FrameSize(au: Buffer): FrameSize | undefined {
  let i = 0;
  while (i + 3 < au.length) {
    const start = au.indexOf(Buffer.from([0, 0, 1]), i);
    if (start < 0) return undefined;
    const nal = start + 3;
    if (nal < au.length && (au[nal] & 0x1f) === 7) {
      const next = au.indexOf(Buffer.from([0, 0, 1]), nal);
      let end = next < 0 ? au.length : next;
      if (end > nal && au[end - 1] === 0) end--; // a 4-byte start code's leading zero
      return h264SpsSize(au.subarray(nal, end));
    }
    i = nal;
  }
  return undefined;
}

/** Picture size of a keyframe of either codec, if it says. */
export function keyframeSize(codec: VideoCodec, frame: Buffer): FrameSize | undefined {
  return codec === 'vp8' ? vp8FrameSize(frame) : h264FrameSize(frame);
}

/**
 * The largest picture a publisher may send, in pixels: 1920x1080 (or the same area in any shape, e.g. portrait). A
 * larger input is not decoded (its decoder would take the memory and CPU of several rooms); ffmpeg's `-max_pixels`
 * backs this up for a size that changes without a keyframe saying so.
 */
export const MAX_INPUT_PIXELS = 1920 * 1080;

/** Whether a publisher's picture is over MAX_INPUT_PIXELS (or any side over 4096). */
export const exceedsInputCap = (s: FrameSize, maxPixels = MAX_INPUT_PIXELS): boolean => s.w * s.h > maxPixels || s.w > 4096 || s.h > 4096;
