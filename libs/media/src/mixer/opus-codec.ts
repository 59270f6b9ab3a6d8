import OpusScript from 'opusscript';

/** One Opus encoder or decoder state (mono or stereo), native libopus when it loads, else the wasm build. */
export interface OpusCodec {
  /** PCM s16le of one frame (its length gives the frame size) → one Opus packet (a fresh buffer). */
  encode(pcm: Buffer): Buffer;
  /** One Opus packet → PCM s16le (a fresh buffer or one reused by the next call: copy what you keep). */
  decode(opus: Buffer): Buffer;
  setBitrate(bps: number): void;
  delete(): void;
}

interface NativeOpus {
  new (rate: number, channels: number): { encode(b: Buffer): Buffer; decode(b: Buffer): Buffer; setBitrate(b: number): void };
}

let native: NativeOpus | null | undefined;

/**
 * `@discordjs/opus` (an optional dependency: libopus built from its bundled source when no prebuilt binary can be
 * downloaded) if it loads, unless MCU_OPUS=wasm; undefined otherwise. About half the CPU of opusscript's wasm build
 * for encoding and a quarter for decoding (see README, performance notes).
 */
function nativeOpus(): NativeOpus | undefined {
  if (native === undefined) {
    native = null;
    if (process.env.MCU_OPUS !== 'wasm') {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        native = (require('@discordjs/opus') as { OpusEncoder: NativeOpus }).OpusEncoder;
      } catch {
        /* not built here: opusscript */
      }
    }
  }
  return native ?? undefined;
}

/** Which implementation createOpus gives. */
export const opusImplementation = (): 'native' | 'wasm' => (nativeOpus() ? 'native' : 'wasm');

export function createOpus(rate: number, channels: 1 | 2): OpusCodec {
  const N = nativeOpus();
  if (N) {
    const c = new N(rate, channels);
    return { encode: (pcm) => c.encode(pcm), decode: (opus) => c.decode(opus), setBitrate: (bps) => c.setBitrate(bps), delete: () => undefined };
  }
  const w = new OpusScript(rate as 48000, channels, OpusScript.Application.AUDIO);
  return {
    encode: (pcm) => w.encode(pcm, pcm.length / 2 / channels),
    decode: (opus) => w.decode(opus),
    setBitrate: (bps) => w.setBitrate(bps),
    delete: () => w.delete(),
  };
}
