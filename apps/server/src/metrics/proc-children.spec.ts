import { spawn } from 'node:child_process';
import { commandOf, countChildProcesses, descendantsOf, descendsFrom, parentPidOf } from './proc-children';

describe('child process counting', () => {
  it('parses /proc stat and cmdline', () => {
    expect(parentPidOf('1234 (ffmpeg) S 999 1234 1234 0 -1')).toBe(999);
    expect(parentPidOf('1234 (a (weird) name) R 42 1 1')).toBe(42);
    expect(parentPidOf('garbage')).toBeUndefined();
    expect(commandOf('/usr/bin/ffmpeg\0-i\0pipe:0\0')).toBe('ffmpeg');
  });

  it('follows the chain of parents (ffmpeg is a grandchild, started by the spawner)', () => {
    const parentOf = new Map([[30, 20], [20, 10], [10, 1], [40, 1]]);
    expect(descendsFrom(30, 10, parentOf)).toBe(true);
    expect(descendsFrom(20, 10, parentOf)).toBe(true);
    expect(descendsFrom(10, 10, parentOf)).toBe(false);
    expect(descendsFrom(40, 10, parentOf)).toBe(false);
  });

  it('counts real grandchildren by name', async () => {
    if (process.platform !== 'linux') return;
    const before = countChildProcesses(process.pid, 'sleep');
    // the child says when its sleep is spawned (a fixed wait was too short for a Node start-up on a loaded machine)
    const sh = spawn(process.execPath, ['-e', "const c=require('child_process').spawn('sleep',['5'],{stdio:'ignore'});c.once('spawn',()=>console.log('up'));setTimeout(()=>{},5000)"]);
    await new Promise((r) => sh.stdout.once('data', r));
    expect(countChildProcesses(process.pid, 'sleep')).toBe(before + 1);
    const gone = new Promise((r) => sh.once('exit', r));
    sh.kill('SIGKILL');
    await gone; // its sleep is reparented away now: the next test's "before" must not count it and then lose it
  });

  it('lists descendants with their argv', async () => {
    if (process.platform !== 'linux') return;
    const kid = spawn('sleep', ['5.5']);
    await new Promise((r) => setTimeout(r, 100));
    expect(descendantsOf(process.pid)).toContainEqual({ pid: kid.pid, argv: ['sleep', '5.5'] });
    await new Promise((r) => (kid.once('exit', r), kid.kill()));
  });

  it('counts real children by name', async () => {
    if (process.platform !== 'linux') return;
    const before = countChildProcesses(process.pid, 'sleep');
    const kids = [spawn('sleep', ['5']), spawn('sleep', ['5'])];
    await new Promise((r) => setTimeout(r, 100));
    expect(countChildProcesses(process.pid, 'sleep')).toBe(before + 2);
    await Promise.all(kids.map((k) => new Promise((r) => (k.once('exit', r), k.kill()))));
  });
});
