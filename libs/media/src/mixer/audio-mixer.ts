import { createOpus, type OpusCodec } from './opus-codec';

export const AUDIO_RATE = 48000;
export const AUDIO_FRAME = 960; // 20 ms
const MAX_QUEUE = 10; // 200 ms: beyond this the oldest frames are dropped to bound latency
export const MIX_ALL = 'all';

interface AudioInput {
  identity: string;
  decoder: OpusCodec;
  queue: Int16Array[];
  /** Frames taken off the queue, reused for the next ones (no allocation per 20 ms). */
  spare: Int16Array[];
  primed: boolean;
  level: number;
}

/**
 * Mixes all publishers' audio (Opus in, decoded here) on the 20 ms clock and encodes one Opus stream per variant:
 * `all` for pure subscribers, and `minus:<identity>` for each subscriber who also publishes (mix-minus).
 */
export class AudioMixer {
  private readonly inputs = new Map<string, AudioInput>();
  private readonly encoders = new Map<string, { enc: OpusCodec; users: number }>();
  framesMixed = 0;
  framesDroppedIn = 0;
  // reused every 20 ms tick (the encoded output is copied out)
  private readonly total = new Int32Array(AUDIO_FRAME);
  private readonly pcm16 = new Int16Array(AUDIO_FRAME);
  private readonly pcm = Buffer.from(this.pcm16.buffer);
  /** Each mix-minus identity's own signal this tick, reused. */
  private readonly own = new Map<string, Int32Array>();

  constructor(private readonly bitrateKbps: number) {}

  addInput(id: string, identity: string): void {
    if (this.inputs.has(id)) return;
    this.inputs.set(id, { identity, decoder: createOpus(AUDIO_RATE, 1), queue: [], spare: [], primed: false, level: 0 });
  }

  removeInput(id: string): void {
    const i = this.inputs.get(id);
    if (!i) return;
    i.decoder.delete();
    this.inputs.delete(id);
  }

  hasAudioFrom(identity: string): boolean {
    for (const i of this.inputs.values()) if (i.identity === identity) return true;
    return false;
  }

  /** Variant a subscriber with this identity should hear. */
  variantFor(identity: string | undefined): string {
    return identity && this.hasAudioFrom(identity) ? `minus:${identity}` : MIX_ALL;
  }

  acquire(variant: string): void {
    const e = this.encoders.get(variant);
    if (e) e.users++;
    else {
      const enc = createOpus(AUDIO_RATE, 1);
      enc.setBitrate(this.bitrateKbps * 1000);
      this.encoders.set(variant, { enc, users: 1 });
    }
  }

  release(variant: string): void {
    const e = this.encoders.get(variant);
    if (!e) return;
    if (--e.users <= 0) {
      e.enc.delete();
      this.encoders.delete(variant);
      if (variant.startsWith('minus:')) this.own.delete(variant.slice(6));
    }
  }

  push(id: string, opus: Buffer): void {
    const i = this.inputs.get(id);
    if (!i || opus.length === 0) return;
    let pcm: Buffer;
    try {
      pcm = i.decoder.decode(opus);
    } catch {
      return; // a corrupt packet costs 20 ms of that publisher's audio, nothing else
    }
    // the decoder's buffer may be unaligned for an Int16Array view, and may be reused: copy out as bytes
    const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.length);
    // Opus frames may be 10/20/40/60 ms: re-slice into 20 ms frames.
    for (let off = 0; off + AUDIO_FRAME * 2 <= bytes.length; off += AUDIO_FRAME * 2) {
      const f = i.spare.pop() ?? new Int16Array(AUDIO_FRAME);
      new Uint8Array(f.buffer).set(bytes.subarray(off, off + AUDIO_FRAME * 2));
      i.queue.push(f);
    }
    while (i.queue.length > MAX_QUEUE) {
      i.spare.push(i.queue.shift()!);
      this.framesDroppedIn++;
    }
  }

  /** One 20 ms step: returns the encoded Opus payload of every variant in use. */
  tick(): Map<string, Buffer> {
    const total = this.total.fill(0);
    const own = this.own;
    for (const o of own.values()) o.fill(0);
    for (const i of this.inputs.values()) {
      // Wait for two frames before playing an input out, so arrival jitter does not starve it every other tick.
      if (!i.primed) {
        if (i.queue.length < 2) continue;
        i.primed = true;
      }
      const f = i.queue.shift();
      if (!f) {
        i.primed = false;
        i.level = 0;
        continue;
      }
      let sq = 0;
      let o: Int32Array | undefined;
      if (this.encoders.has(`minus:${i.identity}`)) {
        o = own.get(i.identity);
        if (!o) own.set(i.identity, (o = new Int32Array(AUDIO_FRAME)));
      }
      for (let s = 0; s < AUDIO_FRAME; s++) {
        total[s] += f[s];
        if (o) o[s] += f[s];
        sq += f[s] * f[s];
      }
      i.level = Math.sqrt(sq / AUDIO_FRAME) / 32768;
      i.spare.push(f);
    }
    const out = new Map<string, Buffer>();
    const pcm16 = this.pcm16;
    for (const [variant, { enc }] of this.encoders) {
      const minus = variant.startsWith('minus:') ? own.get(variant.slice(6)) : undefined;
      for (let s = 0; s < AUDIO_FRAME; s++) {
        const v = total[s] - (minus ? minus[s] : 0);
        pcm16[s] = v > 32767 ? 32767 : v < -32768 ? -32768 : v; // the platform is little-endian, as s16le wants
      }
      out.set(variant, enc.encode(this.pcm)); // a fresh buffer from either implementation
    }
    this.framesMixed++;
    return out;
  }

  /** Each input's identity and RMS level (0..1) over the last tick, without copying. */
  inputLevels(): IterableIterator<[string, { identity: string; level: number }]> {
    return this.inputs.entries();
  }

  /** RMS level (0..1) of each input over the last tick. */
  levels(): Map<string, number> {
    return new Map([...this.inputs].map(([id, i]) => [id, i.level]));
  }

  close(): void {
    for (const id of [...this.inputs.keys()]) this.removeInput(id);
    for (const { enc } of this.encoders.values()) enc.delete();
    this.encoders.clear();
  }
}
