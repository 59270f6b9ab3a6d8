import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU time of a process tree from /proc (Linux): its own, its live descendants', and what its reaped children used. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  pid: number;
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/** Parses /proc/<pid>/stat (the command name may contain spaces and parentheses). */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3]
  return { pid, ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) };
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      out.push(parseStat(readFileSync(`/proc/${d}/stat`, 'utf8')));
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
