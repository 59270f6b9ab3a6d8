import { spawnFailure } from '../ffmpeg/ffmpeg-locator';

/** Why an ffmpeg job ended: it exited by itself (any code), was killed by a signal, or never started. */
export type FfmpegExitKind = 'exited' | 'killed' | 'spawn-failed';

export interface FfmpegExit {
  kind: FfmpegExitKind;
  code: number | null;
  signal: string | null;
  /** The last lines of its stderr, joined with ' | ' (secrets redacted by the job). */
  stderrTail: string;
  /** In words, for a log line or a job's failure reason: "ffmpeg exited with 1: <tail>", "ffmpeg not found at <path>". */
  message: string;
}

/** The last `lines` non-empty lines of `stderr`, joined with ' | '. */
export function stderrTail(stderr: string, lines: number): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ');
}

/**
 * The exit of a job (pure): `spawnError` when the process never ran (no pid), else its code or signal. `name` is how
 * the binary is called in messages.
 */
export function ffmpegExit(o: {
  command: string;
  name?: string;
  code: number | null;
  signal: string | null;
  stderr: string;
  spawnError?: NodeJS.ErrnoException;
  tailLines?: number;
}): FfmpegExit {
  const name = o.name ?? 'ffmpeg';
  const tail = stderrTail(o.stderr, o.tailLines ?? 5);
  if (o.spawnError) {
    return { kind: 'spawn-failed', code: null, signal: null, stderrTail: tail, message: spawnFailure({}, o.command, o.spawnError, name) ?? o.spawnError.message };
  }
  return {
    kind: o.signal ? 'killed' : 'exited',
    code: o.code,
    signal: o.signal,
    stderrTail: tail,
    message: `${name} exited with ${o.code ?? o.signal}: ${tail || 'no output'}`,
  };
}
