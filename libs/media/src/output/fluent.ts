import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { FfmpegCommand } from 'fluent-ffmpeg';
import { launchChild, trackChild } from '../ffmpeg/launch';
import type { FfmpegInfo } from '../ffmpeg/ffmpeg-locator';
import type { ChildLike } from '../ffmpeg/spawner';

/**
 * The one door to fluent-ffmpeg (its upstream is archived: nothing else imports it). It runs the one-shot jobs on
 * finished recordings — probing, remuxing, thumbnails — with its argument building and progress events; the
 * long-lived processes that take the mix (several pipes in) are FfmpegJobs.
 *
 * Every process it starts goes through `launchChild`, i.e. through this thread's spawner when it has one: a fork of
 * the big server process stalls every thread for ~21 ms (see spawner.ts). fluent-ffmpeg calls
 * `require('child_process').spawn` captured when its modules load, so it is loaded (lazily, once) while `spawn` is a
 * stand-in that launches the child our way and gives fluent-ffmpeg the ChildProcess surface it uses.
 */

/** The binaries a command runs: the located ffmpeg and ffprobe (FfmpegInfo), set on every command. */
export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
}
export const binariesOf = (info: Pick<FfmpegInfo, 'path' | 'ffprobe'>): FfmpegBinaries => ({ ffmpeg: info.path, ffprobe: info.ffprobe.path });

type Fluent = typeof import('fluent-ffmpeg');
let loaded: Fluent | undefined;

function fluent(): Fluent {
  if (loaded) return loaded;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cp = require('node:child_process') as { spawn: unknown };
  const real = cp.spawn;
  cp.spawn = (command: string, args?: readonly string[]) => new LaunchedProcess(launchChild(command, [...(args ?? [])], 3));
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('fluent-ffmpeg') as Fluent;
  } finally {
    cp.spawn = real;
  }
  return loaded;
}

/**
 * A launched child as fluent-ffmpeg sees a ChildProcess: stdio streams that exist at once (a spawner hands the real
 * pipes over a moment later), `exit`, `close` and `error` events, `kill`.
 */
class LaunchedProcess extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();

  constructor(private readonly child: ChildLike) {
    super();
    child.on('error', (e: Error) => this.emit('error', e));
    child.once('ready', () => {
      trackChild(child);
      for (const s of child.stdio) s?.on('error', () => undefined);
      if (child.stdin) this.stdin.pipe(child.stdin);
      child.stdout?.pipe(this.stdout);
      child.stderr?.pipe(this.stderr);
    });
    child.once('exit', (code: number | null, signal: string | null) => this.emit('exit', code, signal));
    child.once('close', (code: number | null, signal: string | null) => {
      for (const s of [this.stdout, this.stderr]) if (!s.writableEnded) s.end();
      this.emit('close', code, signal);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  kill(signal?: NodeJS.Signals): boolean {
    return this.child.kill(signal);
  }
}

/** A command on the located binaries. */
function command(bins: FfmpegBinaries, input: string): FfmpegCommand {
  return fluent()(input).setFfmpegPath(bins.ffmpeg).setFfprobePath(bins.ffprobe);
}

export interface MediaProbe {
  /** Seconds, when the container says. */
  durationSeconds?: number;
  sizeBytes?: number;
  streams: Array<{ type: string; codec: string; width?: number; height?: number }>;
}

/** What ffprobe says of a file (duration, streams), or undefined when it cannot read it. */
export function probeMedia(file: string, bins: FfmpegBinaries): Promise<MediaProbe | undefined> {
  return new Promise((resolve) => {
    command(bins, file).ffprobe((err, data) => {
      if (err || !data) return resolve(undefined);
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
      resolve({
        durationSeconds: num(data.format?.duration),
        sizeBytes: num(data.format?.size),
        streams: (data.streams ?? []).map((s) => ({ type: String(s.codec_type), codec: String(s.codec_name), width: num(s.width), height: num(s.height) })),
      });
    });
  });
}

export interface FluentRun {
  bins: FfmpegBinaries;
  input: string;
  inputOptions?: readonly string[];
  output: string;
  outputOptions: readonly string[];
  /** Told how far it got (seconds of output written), from fluent-ffmpeg's progress events. */
  onProgress?: (seconds: number) => void;
  /** Killed (and rejected) after this long. */
  timeoutMs?: number;
}

/** Runs one ffmpeg command to its end: resolves when it succeeded, rejects with ffmpeg's reason otherwise. */
export function runFluent(o: FluentRun): Promise<void> {
  return new Promise((resolve, reject) => {
    const cmd = command(o.bins, o.input)
      .inputOptions(['-hide_banner', ...(o.inputOptions ?? [])])
      .outputOptions([...o.outputOptions])
      .output(o.output);
    if (o.onProgress) cmd.on('progress', (p: { timemark?: string }) => o.onProgress?.(timemarkSeconds(p.timemark)));
    let timedOut = false;
    const timer = o.timeoutMs ? setTimeout(() => ((timedOut = true), cmd.kill('SIGKILL')), o.timeoutMs) : undefined;
    cmd.on('error', (err: Error) => {
      clearTimeout(timer);
      const why = err.message.trim().split('\n').slice(-3).join(' | ');
      reject(new Error(timedOut ? `ffmpeg took longer than ${Math.round(o.timeoutMs! / 1000)} s and was stopped` : why));
    });
    cmd.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    cmd.run();
  });
}

/** "00:01:02.50" → 62.5 (0 for anything else). */
export function timemarkSeconds(mark: string | undefined): number {
  const m = /^(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(mark ?? '');
  if (!m || m[1]) return 0;
  return Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}
