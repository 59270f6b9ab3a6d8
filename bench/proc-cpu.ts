import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
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

/**
 * A live descendant of `parent` whose command line contains every one of `words` (e.g. an output's ffmpeg). Children
 * of the server's ffmpeg spawner (libs/media/src/ffmpeg/spawner.ts) are its grandchildren, hence descendants.
 */
export function childWith(parent: number, words: string[]): number | undefined {
  const stats = allStats();
  const inTree = new Set([parent]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stats) {
      if (inTree.has(s.pid) || !inTree.has(s.ppid)) continue;
      inTree.add(s.pid);
      grew = true;
    }
  }
  for (const s of stats) {
    if (s.pid === parent || !inTree.has(s.pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (words.every((w) => cmd.includes(w))) return s.pid;
    } catch {
      /* exited meanwhile */
    }
  }
  return undefined;
}

/** One reading of a process: its own CPU (all threads, including threads that ended), each live thread's, its descendants'. */
export interface ProcessCpuReading {
  at: number;
  pid: number;
  /** utime + stime of the whole process (seconds). */
  process: number;
  /** Per live thread (tid → seconds); the main thread is tid === pid. */
  threads: Map<number, number>;
  /** Per live descendant process (pid → its own seconds, e.g. the ffmpeg children). */
  descendants: Map<number, number>;
}

export function readProcessCpu(pid: number): ProcessCpuReading {
  const threads = new Map<number, number>();
  let proc = 0;
  try {
    const s = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (s) proc = (s.utime + s.stime) / CLK_TCK;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const t = parseProcStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
        if (t) threads.set(Number(tid), (t.utime + t.stime) / CLK_TCK);
      } catch {
        /* thread ended meanwhile */
      }
    }
  } catch {
    /* process gone */
  }
  const descendants = treeCpuByPid(pid);
  descendants.delete(pid);
  return { at: performance.now(), pid, process: proc, threads, descendants };
}

/** Cores used between two readings: the process, its main thread, its other threads, its descendants; the busiest threads. */
export interface ProcessCores {
  seconds: number;
  process: number;
  mainThread: number;
  otherThreads: number;
  descendants: number;
  /** The busiest threads other than the main one (tid, cores), at most 5. */
  topThreads: Array<{ tid: number; cores: number }>;
}

export function coresBetween(a: ProcessCpuReading, b: ProcessCpuReading): ProcessCores {
  const secs = (b.at - a.at) / 1000;
  const main = (b.threads.get(b.pid) ?? 0) - (a.threads.get(a.pid) ?? 0);
  const proc = b.process - a.process;
  const top = [...b.threads]
    .filter(([tid]) => tid !== b.pid)
    .map(([tid, s]) => ({ tid, cores: (s - (a.threads.get(tid) ?? 0)) / secs }))
    .sort((x, y) => y.cores - x.cores)
    .slice(0, 5);
  return {
    seconds: secs,
    process: proc / secs,
    mainThread: main / secs,
    otherThreads: (proc - main) / secs,
    descendants: cpuBetween(a.descendants, b.descendants) / secs,
    topThreads: top,
  };
}
