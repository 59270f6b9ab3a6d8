import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat, type ProcStat } from '@app/core';

/** CPU time of a process tree from /proc (Linux): its own, its live descendants', and what its reaped children used. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();


function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = parseProcStat(readFileSync(`/proc/${d}/stat`, 'utf8'));
      if (s) out.push(s);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Seconds of CPU used so far by `root` and its descendants (including reaped children). */
export function treeCpuSeconds(root: number): { seconds: number; processes: number } {
  const stats = allStats();
  const byParent = new Map<number, ProcStat[]>();
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const rootStat = stats.find((s) => s.pid === root);
  if (!rootStat) return { seconds: 0, processes: 0 };
  let ticks = 0;
  let n = 0;
  const walk = (s: ProcStat) => {
    ticks += s.utime + s.stime + s.cutime + s.cstime;
    n++;
    for (const c of byParent.get(s.pid) ?? []) walk(c);
  };
  walk(rootStat);
  return { seconds: ticks / CLK_TCK, processes: n };
}

/**
 * CPU seconds of each live process of `root`'s tree (utime + stime, without reaped children: a child that exits adds
 * its whole lifetime to its parent's cutime at once, which would land in whatever window is being measured).
 */
export function treeCpuByPid(root: number): Map<number, number> {
  const stats = allStats();
  const byParent = new Map<number, ProcStat[]>();
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const out = new Map<number, number>();
  const walk = (s: ProcStat) => {
    out.set(s.pid, (s.utime + s.stime) / CLK_TCK);
    for (const c of byParent.get(s.pid) ?? []) walk(c);
  };
  const rootStat = stats.find((s) => s.pid === root);
  if (rootStat) walk(rootStat);
  return out;
}

/** CPU seconds between two treeCpuByPid snapshots: processes alive at the end, counted from the start (or from 0 if new). */
export function cpuBetween(start: Map<number, number>, end: Map<number, number>): number {
  let sum = 0;
  for (const [pid, sec] of end) sum += sec - (start.get(pid) ?? 0);
  return sum;
}

/** The live children of `parent` whose command line contains every one of `words` (e.g. an output's ffmpeg). */
export function childWith(parent: number, words: string[]): number | undefined {
  for (const s of allStats()) {
    if (s.ppid !== parent) continue;
    try {
      const cmd = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (words.every((w) => cmd.includes(w))) return s.pid;
    } catch {
      /* exited meanwhile */
    }
  }
  return undefined;
}
