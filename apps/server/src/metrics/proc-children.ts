import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat } from '@app/core';

/** From the text of /proc/<pid>/stat: the parent pid. */
export const parentPidOf = (stat: string): number | undefined => parseProcStat(stat)?.ppid;

/** The executable name of a /proc/<pid>/cmdline (NUL-separated argv). */
export function commandOf(cmdline: string): string {
  const argv0 = cmdline.split('\0')[0] ?? '';
  return argv0.slice(argv0.lastIndexOf('/') + 1);
}

/**
 * The descendants of `pid` with their argv (Linux /proc; none elsewhere). Descendants, not children: ffmpeg is started
 * by a spawner process (libs/media/src/ffmpeg/spawner.ts), so it is a grandchild.
 */
export function descendantsOf(pid: number): Array<{ pid: number; argv: string[] }> {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const parentOf = new Map<number, number>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const ppid = parentPidOf(readFileSync(`/proc/${e}/stat`, 'utf8'));
      if (ppid !== undefined) parentOf.set(Number(e), ppid);
    } catch {
      /* the process ended while we looked */
    }
  }
  const found: Array<{ pid: number; argv: string[] }> = [];
  for (const child of parentOf.keys()) {
    if (!descendsFrom(child, pid, parentOf)) continue;
    try {
      found.push({ pid: child, argv: readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1) });
    } catch {
      /* the process ended while we looked */
    }
  }
  return found;
}

/** How many descendants of `pid` run a program whose name starts with `name` (Linux /proc; 0 elsewhere). */
export function countChildProcesses(pid: number, name: string): number {
  return descendantsOf(pid).filter((p) => commandOf(p.argv.join('\0')).startsWith(name)).length;
}

/** Whether `pid`'s chain of parents (as `parentOf` knows it) reaches `ancestor`. */
export function descendsFrom(pid: number, ancestor: number, parentOf: ReadonlyMap<number, number>): boolean {
  for (let p = parentOf.get(pid), guard = 0; p !== undefined && guard < 64; p = parentOf.get(p), guard++) if (p === ancestor) return true;
  return false;
}
