/**
 * A tiny registry of child processes (ffmpeg) spawned by the test helpers.
 *
 * Every child is SIGKILLed on close, and a process 'exit' hook (plus SIGINT/SIGTERM hooks when nobody else
 * handles those signals) kills whatever is left, so no ffmpeg survives a test run and keeps sending RTP to a port
 * that a later test reuses.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

/** The ffmpeg binary: `$FFMPEG_PATH` or `ffmpeg` from `PATH`. */
export function ffmpegPath(): string {
  return process.env.FFMPEG_PATH || 'ffmpeg';
}

export interface TrackedChild {
  readonly child: ChildProcess;
  /** The last few KB of stderr (when stderr is piped), for error messages. */
  stderrTail(): string;
  /** Resolves once the process has exited (immediately if it already has). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL (if still running) and wait for the exit. Idempotent. */
  kill(): Promise<void>;
}

export interface SpawnTrackedOptions {
  /** Defaults to ['pipe', 'pipe', 'pipe']. */
  stdio?: StdioOptions;
  /** Bytes of stderr to keep (default 4096). */
  stderrBytes?: number;
  env?: NodeJS.ProcessEnv;
}

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllChildren);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    // Only take over the signal when nobody else handles it; re-raise it afterwards so the default action happens.
    if (process.listenerCount(sig) > 0) continue;
    const onSignal = (): void => {
      killAllChildren();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/**
 * Spawn `cmd args…` (argument array, never a shell string) and track it until it exits.
 * `cmd` may be 'ffmpeg' to mean {@link ffmpegPath}.
 */
export function spawnTracked(cmd: string, args: readonly string[], opts: SpawnTrackedOptions = {}): TrackedChild {
  installHooks();
  const bin = cmd === 'ffmpeg' ? ffmpegPath() : cmd;
  const child = spawn(bin, [...args], {
    stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    shell: false,
  });
  live.add(child);
  const maxTail = opts.stderrBytes ?? 4096;
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString('utf8')).slice(-maxTail);
  });
  // Writes to a dead child's stdin raise EPIPE on the stream: never let that become an uncaught exception.
  child.stdin?.on('error', () => undefined);
  child.stdout?.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      live.delete(child);
      resolve({ code, signal });
    };
    child.once('exit', finish);
    child.once('error', (err: Error) => {
      tail += `\n[spawn error] ${err.message}`;
      finish(null, null);
    });
  });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await exited;
    child.stdin?.destroy();
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  return { child, stderrTail: () => tail, exited, kill };
}

/** Spawn ffmpeg ({@link ffmpegPath}) with `-hide_banner -nostats` prepended. */
export function spawnFfmpeg(args: readonly string[], opts: SpawnTrackedOptions = {}): TrackedChild {
  return spawnTracked(ffmpegPath(), ['-hide_banner', '-nostats', ...args], opts);
}

/** SIGKILL every tracked child that is still running (synchronous: usable from an 'exit' handler). */
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** How many tracked children are still running (tests assert this is 0 after cleanup). */
export function liveChildCount(): number {
  return live.size;
}
