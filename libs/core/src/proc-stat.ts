/** The fields of Linux's /proc/<pid>/stat this project reads (CPU accounting and the process tree). */
export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), … */
  state: string;
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Field 22, clock ticks after boot: with the pid, names one process (a pid can be reused, this pair cannot). */
  startTime: string;
}

/** Parses /proc/<pid>/stat (the command name, field 2, may contain spaces and parentheses); undefined if malformed. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3]
  const s = { pid, state: f[0] ?? '', ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]), startTime: f[19] ?? '' };
  return Number.isInteger(s.pid) && Number.isInteger(s.ppid) ? s : undefined;
}
