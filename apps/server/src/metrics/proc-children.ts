import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat } from '@app/core';

/** From the text of /proc/<pid>/stat: the parent pid. */
export const parentPidOf = (stat: string): number | undefined => parseProcStat(stat)?.ppid;

/** The executable name of a /proc/<pid>/cmdline (NUL-separated argv). */
export function commandOf(cmdline: string): string {
  const argv0 = cmdline.split('\0')[0] ?? '';
  return argv0.slice(argv0.lastIndexOf('/') + 1);
}

/** How many direct children of `pid` run a program whose name starts with `name` (Linux /proc; 0 elsewhere). */
export function countChildProcesses(pid: number, name: string): number {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  let n = 0;
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (parentPidOf(readFileSync(`/proc/${e}/stat`, 'utf8')) !== pid) continue;
      if (commandOf(readFileSync(`/proc/${e}/cmdline`, 'utf8')).startsWith(name)) n++;
    } catch {
      /* the process ended while we looked */
    }
  }
  return n;
}
