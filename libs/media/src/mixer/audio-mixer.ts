import OpusScript from 'opusscript';

export const AUDIO_RATE = 48000;
export const AUDIO_FRAME = 960; // 20 ms
const MAX_QUEUE = 10; // 200 ms: beyond this the oldest frames are dropped to bound latency
export const MIX_ALL = 'all';

interface AudioInput {
  identity: string;
  decoder: OpusScript;
  queue: Int16Array[];
  primed: boolean;
  level: number;
}

/**
 * Mixes all publishers' audio (Opus in, decoded here) on the 20 ms clock and encodes one Opus stream per variant:
 * `all` for pure subscribers, and `minus:<identity>` for each subscriber who also publishes (mix-minus).
 */
export class AudioMixer {
  private readonly inputs = new Map<string, AudioInput>();
  private readonly encoders = new Map<string, { enc: OpusScript; users: number }>();
  framesMixed = 0;
  framesDroppedIn = 0;
  // reused every 20 ms tick (the encoded output is copied out)
  private readonly total = new Int32Array(AUDIO_FRAME);
  private readonly pcm = Buffer.allocUnsafe(AUDIO_FRAME * 2);

  constructor(private readonly bitrateKbps: number) {}

  addInput(id: string, identity: string): void {
    if (this.inputs.has(id)) return;
    this.inputs.set(id, { identity, decoder: new OpusScript(AUDIO_RATE, 1, OpusScript.Application.AUDIO), queue: [], primed: false, level: 0 });
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
      const enc = new OpusScript(AUDIO_RATE, 1, OpusScript.Application.AUDIO);
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
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    // Opus frames may be 10/20/40/60 ms: re-slice into 20 ms frames.
    for (let off = 0; off + AUDIO_FRAME <= samples.length; off += AUDIO_FRAME) {
      i.queue.push(samples.slice(off, off + AUDIO_FRAME));
    }
    while (i.queue.length > MAX_QUEUE) {
      i.queue.shift();
      this.framesDroppedIn++;
    }
  }

  /** One 20 ms step: returns the encoded Opus payload of every variant in use. */
  tick(): Map<string, Buffer> {
    const total = this.total.fill(0);
    const own = new Map<string, Int32Array>();
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
      let o = own.get(i.identity);
      if (this.encoders.has(`minus:${i.identity}`) && !o) {
        o = new Int32Array(AUDIO_FRAME);
        own.set(i.identity, o);
      }
      for (let s = 0; s < AUDIO_FRAME; s++) {
        total[s] += f[s];
        if (o) o[s] += f[s];
        sq += f[s] * f[s];
      }
      i.level = Math.sqrt(sq / AUDIO_FRAME) / 32768;
    }
    const out = new Map<string, Buffer>();
    const pcm = this.pcm;
    for (const [variant, { enc }] of this.encoders) {
      const minus = variant.startsWith('minus:') ? own.get(variant.slice(6)) : undefined;
      for (let s = 0; s < AUDIO_FRAME; s++) {
        const v = total[s] - (minus ? minus[s] : 0);
        pcm.writeInt16LE(v > 32767 ? 32767 : v < -32768 ? -32768 : v, s * 2);
      }
      out.set(variant, Buffer.from(enc.encode(pcm, AUDIO_FRAME)));
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
