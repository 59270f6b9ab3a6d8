import OpusScript from 'opusscript';
import { AUDIO_FRAME, AUDIO_RATE, AudioMixer, MIX_ALL } from './audio-mixer';

const tone = (hz: number, n: number, amp = 0.3) => {
  const b = Buffer.alloc(AUDIO_FRAME * 2);
  for (let i = 0; i < AUDIO_FRAME; i++) b.writeInt16LE(Math.round(amp * 32767 * Math.sin((2 * Math.PI * hz * (n * AUDIO_FRAME + i)) / AUDIO_RATE)), i * 2);
  return b;
};
/** Goertzel magnitude of `hz` in mono int16 PCM, normalized to ~amplitude. */
const level = (pcm: Int16Array, hz: number) => {
  const w = (2 * Math.PI * hz) / AUDIO_RATE;
  let s1 = 0;
  let s2 = 0;
  for (const x of pcm) {
    const s = x / 32768 + 2 * Math.cos(w) * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (2 * Math.sqrt(s1 * s1 + s2 * s2 - 2 * Math.cos(w) * s1 * s2)) / pcm.length;
};

const samples = (b: Buffer) => new Int16Array(b.buffer, b.byteOffset, b.length / 2);

describe('AudioMixer', () => {
  it('mixes everyone for pure subscribers and leaves each publisher out of their own mix', () => {
    const m = new AudioMixer(64);
    m.addInput('pa', 'alice');
    m.addInput('pb', 'bob');
    expect(m.variantFor('alice')).toBe('minus:alice');
    expect(m.variantFor('viewer')).toBe(MIX_ALL);
    m.acquire(MIX_ALL);
    m.acquire('minus:alice');
    const ea = new OpusScript(AUDIO_RATE, 1, OpusScript.Application.AUDIO);
    const eb = new OpusScript(AUDIO_RATE, 1, OpusScript.Application.AUDIO);
    const dAll = new OpusScript(AUDIO_RATE, 1);
    const dMinus = new OpusScript(AUDIO_RATE, 1);
    const all: number[] = [];
    const minus: number[] = [];
    for (let n = 0; n < 60; n++) {
      m.push('pa', ea.encode(tone(440, n), AUDIO_FRAME));
      m.push('pb', eb.encode(tone(1000, n), AUDIO_FRAME));
      const out = m.tick();
      if (n < 20) continue; // let the codecs settle
      all.push(...samples(dAll.decode(out.get(MIX_ALL)!)));
      minus.push(...samples(dMinus.decode(out.get('minus:alice')!)));
    }
    const A = Int16Array.from(all);
    const M = Int16Array.from(minus);
    expect(level(A, 440)).toBeGreaterThan(0.1);
    expect(level(A, 1000)).toBeGreaterThan(0.1);
    expect(level(M, 1000)).toBeGreaterThan(0.1);
    expect(level(M, 440)).toBeLessThan(0.02);
    m.release('minus:alice');
    m.removeInput('pa');
    expect(m.variantFor('alice')).toBe(MIX_ALL);
    m.close();
    [ea, eb, dAll, dMinus].forEach((x) => x.delete());
  });

  it('produces silence, not nothing, when nobody publishes', () => {
    const m = new AudioMixer(32);
    m.acquire(MIX_ALL);
    const out = m.tick();
    expect(out.get(MIX_ALL)!.length).toBeGreaterThan(0);
    m.close();
  });
});
