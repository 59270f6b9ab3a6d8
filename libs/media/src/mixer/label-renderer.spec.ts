import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
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

describe('LabelRenderer when its files cannot be written (ENOSPC, a read-only or replaced directory)', () => {
  it('logs, draws no label meanwhile, never throws out of its timer, and renders again once the directory is back', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'mcu-labels-test-'));
    const warnings: string[] = [];
    const logger = { debug: () => undefined, log: () => undefined, warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };
    const uncaught: Error[] = [];
    const onUncaught = (e: Error) => uncaught.push(e);
    process.prependListener('uncaughtException', onUncaught);
    const r = new LabelRenderer(ffmpeg, logger, base);
    try {
      const [dir] = readdirSync(base).map((d) => path.join(base, d));
      expect(dir).toBeDefined();
      // the label directory is replaced by a file: every write into it fails (ENOTDIR), as ENOSPC would
      rmSync(dir, { recursive: true, force: true });
      writeFileSync(dir, 'not a directory');
      const bg = [64, 64, 72] as const;
      expect(r.get(label('Alice', 120, 24, bg))).toBeUndefined();
      expect(await waitUntil(() => warnings.some((w) => /label/.test(w) && /ENOTDIR|not a directory/i.test(w)), 5000)).toBe(true);
      expect(uncaught).toEqual([]);
      expect(r.get(label('Alice', 120, 24, bg))).toBeUndefined();
      // the disk is usable again: labels come back by themselves
      rmSync(dir, { force: true });
      mkdirSync(dir);
      expect(await waitUntil(() => Boolean(r.get(label('Alice', 120, 24, bg))), 15_000)).toBe(true);
      expect(uncaught).toEqual([]);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      r.close();
      rmSync(base, { recursive: true, force: true });
    }
  }, 30_000);
});
