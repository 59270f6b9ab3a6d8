import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { labelArgs } from '../ffmpeg/ffmpeg-args';
import type { Logger } from '../logger';
import { YuvCanvas } from './yuv-canvas';

const MAX_CACHED = 256;

/**
 * Name labels for tiles, rendered once per (text, size, colour) by a one-frame ffmpeg drawtext run and cached as
 * yuv420p. `get` never blocks the compositor: it returns undefined until the label is ready (a frame or two).
 * Without a usable font or drawtext, labels are simply not drawn (logged once).
 */
export class LabelRenderer {
  private readonly cache = new Map<string, Buffer | null>(); // null: rendering
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'mcu-labels-'));
  private seq = 0;
  private broken = false;
  private closed = false;

  constructor(
    private readonly ffmpegPath: string,
    private readonly logger?: Logger,
  ) {}

  get(text: string, w: number, h: number, background: readonly [number, number, number]): Buffer | undefined {
    if (this.broken || this.closed || w < 2 || h < 2) return undefined;
    const key = `${w}x${h}|${background.join(',')}|${text}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      if (hit) {
        this.cache.delete(key); // refresh LRU position
        this.cache.set(key, hit);
      }
      return hit ?? undefined;
    }
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, null);
    this.render(key, text, w, h, background);
    return undefined;
  }

  private render(key: string, text: string, w: number, h: number, background: readonly [number, number, number]): void {
    const file = path.join(this.dir, `label-${++this.seq}.txt`);
    writeFileSync(file, text);
    const size = YuvCanvas.frameSize(w, h);
    execFile(this.ffmpegPath, labelArgs({ textFile: file, width: w, height: h, background }), { encoding: 'buffer', maxBuffer: size + 1024, timeout: 10_000 }, (err, stdout, stderr) => {
      rmSync(file, { force: true });
      if (this.closed) return;
      if (err || stdout.length < size) {
        this.cache.delete(key);
        if (!this.broken) this.logger?.warn(`name labels disabled: ffmpeg drawtext failed (${String(stderr).trim().split('\n').pop() || err?.message})`);
        this.broken = true;
        return;
      }
      this.cache.set(key, stdout.subarray(0, size));
    });
  }

  close(): void {
    this.closed = true;
    this.cache.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
