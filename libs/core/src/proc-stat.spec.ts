import { parseProcStat } from './proc-stat';

describe('parseProcStat', () => {
  it('reads pid, state, parent, CPU ticks and start time even when the command name has spaces and parentheses', () => {
    const line = '4242 (ffmpeg (x) y) S 77 4242 4242 0 -1 4194304 100 0 0 0 150 25 3 4 20 0 1 0 1000 0';
    expect(parseProcStat(line)).toEqual({ pid: 4242, state: 'S', ppid: 77, utime: 150, stime: 25, cutime: 3, cstime: 4, startTime: '1000' });
    expect(parseProcStat('nonsense')).toBeUndefined();
  });
});
