import { label, LabelRenderer } from './label-renderer';

const ffmpeg = process.env.FFMPEG_PATH || 'ffmpeg';
const waitUntil = async (fn: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!fn() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return fn();
};

describe('LabelRenderer (real ffmpeg drawtext)', () => {
  it('renders the labels asked for in one tick with one ffmpeg run, white text on the background, then serves them from cache', async () => {
    const r = new LabelRenderer(ffmpeg);
    try {
      const bg = [64, 64, 72] as const;
      expect(r.get(label('Alice', 120, 24, bg))).toBeUndefined();
      expect(r.get(label('Bob %{pts}', 120, 24, bg))).toBeUndefined();
      expect(r.get(label('Zoë', 64, 16, [16, 16, 20]))).toBeUndefined();
      expect(await waitUntil(() => Boolean(r.get(label('Alice', 120, 24, bg)) && r.get(label('Bob %{pts}', 120, 24, bg)) && r.get(label('Zoë', 64, 16, [16, 16, 20]))), 10_000)).toBe(true);
      expect(r.batches).toBe(1);
      const alice = r.get(label('Alice', 120, 24, bg))!;
      expect(alice.length).toBe(120 * 24 * 1.5);
      const luma = alice.subarray(0, 120 * 24);
      expect(Math.max(...luma)).toBeGreaterThan(200); // white text
      expect(luma[0]).toBeLessThan(90); // background corner
      // a different text is different pixels
      expect(r.get(label('Bob %{pts}', 120, 24, bg))!.equals(alice)).toBe(false);
      expect(r.batches).toBe(1);
    } finally {
      r.close();
    }
  });
});
