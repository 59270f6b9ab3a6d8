import { spawn } from 'node:child_process';
import { commandOf, countChildProcesses, parentPidOf } from './proc-children';

describe('child process counting', () => {
  it('parses /proc stat and cmdline', () => {
    expect(parentPidOf('1234 (ffmpeg) S 999 1234 1234 0 -1')).toBe(999);
    expect(parentPidOf('1234 (a (weird) name) R 42 1 1')).toBe(42);
    expect(parentPidOf('garbage')).toBeUndefined();
    expect(commandOf('/usr/bin/ffmpeg\0-i\0pipe:0\0')).toBe('ffmpeg');
  });

  it('counts real children by name', async () => {
    if (process.platform !== 'linux') return;
    const before = countChildProcesses(process.pid, 'sleep');
    const kids = [spawn('sleep', ['5']), spawn('sleep', ['5'])];
    await new Promise((r) => setTimeout(r, 100));
    expect(countChildProcesses(process.pid, 'sleep')).toBe(before + 2);
    for (const k of kids) k.kill();
  });
});
