import type * as OpusCodecModule from './opus-codec';

/** A fresh copy of the module (it picks its implementation once, on first use). */
function load(): typeof OpusCodecModule {
  let m: typeof OpusCodecModule | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    m = require('./opus-codec') as typeof OpusCodecModule;
  });
  return m!;
}

const saved = process.env.MCU_OPUS;
afterEach(() => {
  if (saved === undefined) delete process.env.MCU_OPUS;
  else process.env.MCU_OPUS = saved;
});

describe.each([
  ['default (native when built)', undefined],
  ['MCU_OPUS=wasm', 'wasm'],
])('createOpus, %s', (_name, env) => {
  it('encodes 20 ms of a tone and decodes it back to 20 ms of similar level', () => {
    if (env === undefined) delete process.env.MCU_OPUS;
    else process.env.MCU_OPUS = env;
    const m = load();
    if (env === 'wasm') expect(m.opusImplementation()).toBe('wasm');
    const enc = m.createOpus(48000, 1);
    const dec = m.createOpus(48000, 1);
    enc.setBitrate(32000);
    const pcm = Buffer.alloc(960 * 2);
    let rms = 0;
    for (let k = 0; k < 5; k++) {
      for (let i = 0; i < 960; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (k * 960 + i)) / 48000)), i * 2);
      const packet = enc.encode(pcm);
      expect(packet.length).toBeGreaterThan(0);
      const out = dec.decode(packet);
      expect(out.length).toBe(960 * 2);
      rms = 0;
      for (let i = 0; i < 960; i++) rms += out.readInt16LE(i * 2) ** 2;
      rms = Math.sqrt(rms / 960);
    }
    expect(rms).toBeGreaterThan(8000 / Math.SQRT2 / 2);
    expect(rms).toBeLessThan(8000 / Math.SQRT2 * 1.5);
    enc.delete();
    dec.delete();
  });
});
