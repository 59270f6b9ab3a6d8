import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { labelBatchArgs, type LabelSpec } from '../ffmpeg/ffmpeg-args';
import type { Logger } from '../logger';
import { YuvCanvas } from './yuv-canvas';

const MAX_CACHED = 256;
const MAX_BATCH = 32;

/** A label to draw: made once per tile layout (see `label()`), looked up on every frame by its key. */
export interface Label {
  key: string;
  text: string;
  w: number;
  h: number;
  background: readonly [number, number, number];
}

export function label(text: string, w: number, h: number, background: readonly [number, number, number]): Label {
  return { key: `${w}x${h}|${background.join(',')}|${text}`, text, w, h, background };
}

/**
 * Name labels for tiles, rendered by ffmpeg's drawtext and cached as yuv420p per (text, size, colour). `get` never
 * blocks the compositor: it returns undefined until the label is ready. Labels asked for in the same tick (a relayout
 * asks for every tile's at once) are rendered by one ffmpeg run: a process spawn stalls the event loop for a few
 * milliseconds, so one per batch rather than one per label. Without a usable font or drawtext, labels are simply not
 * drawn (logged once).
 */
export class LabelRenderer {
  private readonly cache = new Map<string, Buffer | null>(); // null: being rendered
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'mcu-labels-'));
  private queue: Label[] = [];
  private flushScheduled = false;
  private busy = false;
  private seq = 0;
  private broken = false;
  private closed = false;
  batches = 0;

  constructor(
    private readonly ffmpegPath: string,
    private readonly logger?: Logger,
  ) {}

  /** The rendered label, or undefined until it is ready (the first call asks for it). Cheap enough for every frame. */
  get(label: Label): Buffer | undefined {
    if (this.broken || this.closed) return undefined;
    const hit = this.cache.get(label.key);
    if (hit !== undefined) return hit ?? undefined;
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string); // the oldest
    this.cache.set(label.key, null);
    this.queue.push(label);
    this.scheduleFlush();
    return undefined;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.busy) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.busy || this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    const specs: LabelSpec[] = batch.map((r) => {
      const n = ++this.seq;
      const textFile = path.join(this.dir, `label-${n}.txt`);
      writeFileSync(textFile, r.text);
      return { textFile, width: r.w, height: r.h, background: r.background, output: path.join(this.dir, `label-${n}.yuv`) };
    });
    this.busy = true;
    this.batches++;
    execFile(this.ffmpegPath, labelBatchArgs(specs), { timeout: 15_000 }, (err, _stdout, stderr) => {
      this.busy = false;
      for (const [i, r] of batch.entries()) {
        const spec = specs[i];
        let frame: Buffer | undefined;
        if (!err && !this.closed) {
          try {
            frame = readFileSync(spec.output);
          } catch {
            /* missing: treated as a failure below */
          }
        }
        rmSync(spec.textFile, { force: true });
        rmSync(spec.output, { force: true });
        if (this.closed) continue;
        if (frame && frame.length >= YuvCanvas.frameSize(r.w, r.h)) this.cache.set(r.key, frame);
        else {
          this.cache.delete(r.key);
          if (!this.broken) this.logger?.warn(`name labels disabled: ffmpeg drawtext failed (${String(stderr).trim().split('\n').pop() || err?.message})`);
          this.broken = true;
        }
      }
      if (this.queue.length) this.scheduleFlush();
    });
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.cache.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
