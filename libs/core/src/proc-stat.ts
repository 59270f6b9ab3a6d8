/** The fields of Linux's /proc/<pid>/stat this project reads (CPU accounting and the process tree). */
export interface ProcStat {
  pid: number;
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/** Parses /proc/<pid>/stat (the command name, field 2, may contain spaces and parentheses); undefined if malformed. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3]
  const s = { pid, ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) };
  return Number.isInteger(s.pid) && Number.isInteger(s.ppid) ? s : undefined;
}
