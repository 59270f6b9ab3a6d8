import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { labelBatchArgs, type LabelSpec } from '../ffmpeg/ffmpeg-args';
import type { Logger } from '../logger';
import { YuvCanvas } from './yuv-canvas';

const MAX_CACHED = 256;
const MAX_BATCH = 32;
/** After a failed write (disk full, directory gone or read-only), labels are not asked for again for this long. */
export const LABEL_FS_RETRY_MS = 3000;

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
  private dir?: string;
  /** Until then, no label is queued: its files could not be written (the disk is full or the directory unusable). */
  private fsRetryAt = 0;
  private lastFsError = '';
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
    private readonly base = tmpdir(),
  ) {
    this.makeDir();
  }

  /** The directory of the label files, made now if it could not be before; undefined (logged) when it cannot be. */
  private makeDir(): string | undefined {
    try {
      this.dir ??= mkdtempSync(path.join(this.base, 'mcu-labels-'));
    } catch (e) {
      this.fsFailed(e as Error);
    }
    return this.dir;
  }

  /** A file of the labels could not be written: no labels for a while (logged once per distinct error), never a crash. */
  private fsFailed(e: Error): void {
    this.fsRetryAt = Date.now() + LABEL_FS_RETRY_MS;
    if (e.message !== this.lastFsError) this.logger?.warn(`name labels paused: their files cannot be written (${e.message}); retrying every ${LABEL_FS_RETRY_MS / 1000} s`);
    this.lastFsError = e.message;
  }

  /** The rendered label, or undefined until it is ready (the first call asks for it). Cheap enough for every frame. */
  get(label: Label): Buffer | undefined {
    if (this.broken || this.closed) return undefined;
    const hit = this.cache.get(label.key);
    if (hit !== undefined) return hit ?? undefined;
    if (Date.now() < this.fsRetryAt) return undefined;
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
    const dir = this.makeDir();
    let specs: LabelSpec[];
    try {
      if (!dir) throw new Error(this.lastFsError);
      specs = batch.map((r) => {
        const n = ++this.seq;
        const textFile = path.join(dir, `label-${n}.txt`);
        writeFileSync(textFile, r.text);
        return { textFile, width: r.w, height: r.h, background: r.background, output: path.join(dir, `label-${n}.yuv`) };
      });
    } catch (e) {
      // ENOSPC, EACCES, ENOTDIR…: these labels are asked for again once the retry time has passed
      if (dir) this.fsFailed(e as Error);
      for (const r of [...batch, ...this.queue.splice(0)]) this.cache.delete(r.key);
      return;
    }
    if (this.lastFsError) {
      this.logger?.log('name labels resumed: their files can be written again');
      this.lastFsError = '';
    }
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
        removeQuietly(spec.textFile);
        removeQuietly(spec.output);
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
    if (this.dir) removeQuietly(this.dir);
  }
}

/** Removes a file or directory; one that cannot be removed (already gone, a read-only disk) is left. */
function removeQuietly(p: string): void {
  try {
    rmSync(p, { recursive: true, force: true });
  } catch {
    /* left behind: a temporary file */
  }
}
