import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * A memory bound for every child this process starts (ffmpeg, ffprobe): a crafted input or a runaway encoder must not
 * take the machine's memory from every other room. Node cannot set a child's rlimits, so the child is started through
 * util-linux `prlimit`, which sets RLIMIT_DATA and then execs the command: same pid, same pipes, no shell. RLIMIT_DATA
 * counts what a process really allocates (heap, anonymous mappings, thread stacks); RLIMIT_AS would also count address
 * space merely reserved (glibc's 64 MB per-thread arenas) and fail a healthy multi-threaded encoder.
 * A child that hits the bound fails an allocation and exits with an error; its supervisor treats that like any crash.
 */

/** The default bound: typical children use 35–95 MB (VmData, measured), a 1080p encoder a few hundred. */
export const DEFAULT_CHILD_MEMORY_MB = 1024;

/** `FFMPEG_MAX_MEMORY_MB` (validated by libs/config at startup): the bound in MB, 0 for none. */
export function childMemoryLimitMb(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FFMPEG_MAX_MEMORY_MB;
  if (raw === undefined || raw.trim() === '') return DEFAULT_CHILD_MEMORY_MB;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : DEFAULT_CHILD_MEMORY_MB;
}

/** The command line that starts `command args` with at most `limitMb` of data (unchanged when either is missing). */
export function withMemoryLimit(command: string, args: string[], limitMb: number, prlimit: string | undefined): { command: string; args: string[] } {
  if (!prlimit || limitMb <= 0) return { command, args };
  const bytes = limitMb * 1024 * 1024;
  return { command: prlimit, args: [`--data=${bytes}:${bytes}`, '--', command, ...args] };
}

const found = new Map<string, string>();
/** Where `command` is (a path as given, checked each time; else searched on PATH, a hit remembered), or undefined. */
export function findExecutable(command: string, extraDirs: string[] = []): string | undefined {
  if (command.includes('/')) return existsSync(command) ? command : undefined;
  const known = found.get(command);
  if (known) return known;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  const hit = dirs.map((d) => path.join(d, command)).find((f) => existsSync(f));
  if (hit) found.set(command, hit);
  return hit;
}

/** util-linux's prlimit on this machine (PATH, then /usr/bin and /bin), or undefined. */
export const findPrlimit = (): string | undefined => findExecutable('prlimit', ['/usr/bin', '/bin']);

/**
 * `command args` as launched: through prlimit when there is a bound and both prlimit and the command exist (a missing
 * command is left to fail its own spawn with ENOENT, which says clearly what is missing, not prlimit's exit 127).
 */
export function limitedCommand(command: string, args: string[]): { command: string; args: string[] } {
  const mb = childMemoryLimitMb();
  if (mb <= 0 || !findExecutable(command)) return { command, args };
  return withMemoryLimit(command, args, mb, findPrlimit());
}
