import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { claimRedisDir, findRedisOnDir, OWNER_LOCKFILE, procInfo, REDIS_PIDFILE, RedisDirInUseError } from './redis-dir-claim';

/** A fake /proc: one directory per process with stat, comm and a cwd link, as Linux shows them. */
function fakeProc(root: string, pid: number, o: { comm: string; cwd: string; ppid?: number; state?: string; startTime?: string }): void {
  const dir = path.join(root, String(pid));
  mkdirSync(dir, { recursive: true });
  const after = [o.state ?? 'S', o.ppid ?? 1, ...Array(17).fill(0), o.startTime ?? '5000', 0, 0];
  writeFileSync(path.join(dir, 'stat'), `${pid} (${o.comm}) ${after.join(' ')}\n`);
  writeFileSync(path.join(dir, 'comm'), `${o.comm}\n`);
  symlinkSync(o.cwd, path.join(dir, 'cwd'));
}

describe('redis data directory claim', () => {
  let base: string;
  let proc: string;
  let dir: string;
  const SELF = 4000;
  beforeEach(() => {
    base = mkdtempSync(path.join(tmpdir(), 'redis-claim-'));
    proc = path.join(base, 'proc');
    dir = path.join(base, 'data', 'redis');
    mkdirSync(proc);
    mkdirSync(dir, { recursive: true });
    fakeProc(proc, SELF, { comm: 'node', cwd: base, startTime: '7777' });
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('reads a process from /proc, and treats a zombie as gone', () => {
    fakeProc(proc, 10, { comm: 'redis-server', cwd: dir, ppid: 3, startTime: '123' });
    fakeProc(proc, 11, { comm: 'redis-server', cwd: dir, state: 'Z' });
    expect(procInfo(10, proc)).toEqual({ comm: 'redis-server', cwd: dir, ppid: 3, startTime: '123' });
    expect(procInfo(11, proc)).toBeUndefined();
    expect(procInfo(12, proc)).toBeUndefined();
  });

  it('finds the redis-servers working in the directory, with or without a pidfile', () => {
    fakeProc(proc, 20, { comm: 'redis-server', cwd: dir }); // named by no pidfile: found in /proc
    fakeProc(proc, 21, { comm: 'redis-server', cwd: base }); // another directory
    fakeProc(proc, 22, { comm: 'node', cwd: dir }); // not a redis-server
    fakeProc(proc, 23, { comm: 'redis-server', cwd: dir, state: 'Z' });
    writeFileSync(path.join(dir, REDIS_PIDFILE), '24\n'); // a pidfile whose process is gone
    expect(findRedisOnDir(dir, proc)).toEqual([20]);
  });

  it('claims a free directory, recording its owner, and names the orphans to stop', () => {
    fakeProc(proc, 30, { comm: 'redis-server', cwd: dir, ppid: 1 });
    writeFileSync(path.join(dir, REDIS_PIDFILE), '30');
    const claim = claimRedisDir(dir, 6400, proc, SELF);
    expect(claim.orphans).toEqual([30]);
    expect(JSON.parse(readFileSync(path.join(dir, OWNER_LOCKFILE), 'utf8'))).toEqual({ pid: SELF, startTime: '7777', port: 6400 });
    claim.release();
    expect(existsSync(path.join(dir, OWNER_LOCKFILE))).toBe(false);
  });

  it('refuses a directory whose owner is alive', () => {
    fakeProc(proc, 40, { comm: 'node', cwd: base, startTime: '900' });
    writeFileSync(path.join(dir, OWNER_LOCKFILE), JSON.stringify({ pid: 40, startTime: '900', port: 6401 }));
    expect(() => claimRedisDir(dir, 6400, proc, SELF)).toThrow(RedisDirInUseError);
    expect(() => claimRedisDir(dir, 6400, proc, SELF)).toThrow(/in use by another server \(pid 40\)[\s\S]*DATA_DIR/);
  });

  it('takes over the lock of a server that is gone, or whose pid now names another process', () => {
    writeFileSync(path.join(dir, OWNER_LOCKFILE), JSON.stringify({ pid: 41, startTime: '900' }));
    claimRedisDir(dir, 6400, proc, SELF).release();
    fakeProc(proc, 42, { comm: 'bash', cwd: base, startTime: '901' });
    writeFileSync(path.join(dir, OWNER_LOCKFILE), JSON.stringify({ pid: 42, startTime: '900' }));
    const claim = claimRedisDir(dir, 6400, proc, SELF);
    expect(JSON.parse(readFileSync(path.join(dir, OWNER_LOCKFILE), 'utf8')).pid).toBe(SELF);
    claim.release();
    writeFileSync(path.join(dir, OWNER_LOCKFILE), 'not json');
    claimRedisDir(dir, 6400, proc, SELF).release();
  });

  it('never claims one directory twice in one process', () => {
    const claim = claimRedisDir(dir, 6400, proc, SELF);
    expect(() => claimRedisDir(dir, 6400, proc, SELF)).toThrow(RedisDirInUseError);
    claim.release();
    claimRedisDir(dir, 6400, proc, SELF).release();
  });
});
