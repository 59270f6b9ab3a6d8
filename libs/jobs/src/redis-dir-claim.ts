import { closeSync, existsSync, linkSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { parseProcStat } from '@app/core';

/**
 * One embedded redis-server per data directory, and none left behind. The directory holds two files:
 * - `redis-server.pid`, written by redis-server itself (its `pidfile` setting);
 * - `mcu-redis.lock`, written (exclusively) by the server that owns the directory: its pid and process start time.
 * Before starting, a server refuses a directory whose owner is alive, and stops any redis-server still running on it
 * (an orphan of a server that was killed: the pidfile's and, on Linux, any other found in /proc with that working
 * directory, since redis-server chdirs to its `dir`).
 */
export const REDIS_PIDFILE = 'redis-server.pid';
export const OWNER_LOCKFILE = 'mcu-redis.lock';

export interface OwnerRecord {
  pid: number;
  /** /proc/<pid>/stat starttime (clock ticks since boot): tells a live owner from a reused pid. */
  startTime?: string;
  port?: number;
}

/** What /proc says about one process (undefined: no such process, or it is a zombie). */
export interface ProcInfo {
  comm?: string;
  cwd?: string;
  ppid?: number;
  startTime?: string;
}

export class RedisDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: number,
  ) {
    super(`${dir} is in use by another server (pid ${owner}) with its own embedded redis-server: stop that server, or give this one another DATA_DIR (or a REDIS_URL)`);
    this.name = 'RedisDirInUseError';
  }
}

/** A process as /proc shows it; undefined when it does not exist or is a zombie. Unreadable fields stay undefined. */
export function procInfo(pid: number, procRoot = '/proc'): ProcInfo | undefined {
  const dir = path.join(procRoot, String(pid));
  let stat;
  try {
    stat = parseProcStat(readFileSync(path.join(dir, 'stat'), 'utf8'));
  } catch {
    return undefined;
  }
  if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined;
  const read = (f: () => string): string | undefined => {
    try {
      return f();
    } catch {
      return undefined; // another user's process: EACCES
    }
  };
  return {
    comm: read(() => readFileSync(path.join(dir, 'comm'), 'utf8').trim()),
    cwd: read(() => readlinkSync(path.join(dir, 'cwd'))),
    ppid: stat.ppid,
    startTime: stat.startTime,
  };
}

/** Whether `pid` is alive: /proc when the system has it, else signal 0. */
export function isAlive(pid: number, procRoot = '/proc'): boolean {
  if (existsSync(procRoot)) return procInfo(pid, procRoot) !== undefined;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const realpath = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/** Live redis-server processes whose working directory is `dir`: the pidfile's, and any other /proc shows. */
export function findRedisOnDir(dir: string, procRoot = '/proc'): number[] {
  const want = realpath(dir);
  const candidates = new Set<number>();
  const fromPidfile = readPid(path.join(dir, REDIS_PIDFILE));
  if (fromPidfile !== undefined) candidates.add(fromPidfile);
  let entries: string[] = [];
  try {
    entries = readdirSync(procRoot);
  } catch {
    // no /proc (not Linux): the pidfile is all there is; trust it when its process is alive
    return fromPidfile !== undefined && isAlive(fromPidfile, procRoot) ? [fromPidfile] : [];
  }
  for (const e of entries) if (/^\d+$/.test(e)) candidates.add(Number(e));
  return [...candidates].filter((pid) => {
    const p = procInfo(pid, procRoot);
    return p !== undefined && p.comm === 'redis-server' && p.cwd !== undefined && realpath(p.cwd) === want;
  });
}

export function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export const readOwner = (dir: string): OwnerRecord | undefined => readOwnerFile(path.join(dir, OWNER_LOCKFILE));

function readOwnerFile(file: string): OwnerRecord | undefined {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as OwnerRecord;
    return Number.isInteger(o.pid) && o.pid > 0 ? o : undefined;
  } catch {
    return undefined;
  }
}

/** The owner recorded in the lock file is still that process (alive, and not a reused pid). */
export function ownerAlive(o: OwnerRecord, procRoot = '/proc'): boolean {
  if (!isAlive(o.pid, procRoot)) return false;
  if (o.startTime === undefined) return true;
  const now = procInfo(o.pid, procRoot)?.startTime;
  return now === undefined || now === o.startTime;
}

/**
 * Removes a stale lock file (its server is gone, or it is unreadable). Renamed away first, then checked: if another
 * starter replaced it meanwhile, its fresh lock is put back, so two starters never both take over.
 */
function takeOverStale(lock: string, stale: OwnerRecord | undefined): void {
  const aside = `${lock}.${process.pid}.${Date.now()}`;
  try {
    renameSync(lock, aside);
  } catch {
    return; // gone already: the next exclusive creation decides
  }
  const moved = readOwnerFile(aside);
  if (moved && (moved.pid !== stale?.pid || moved.startTime !== stale?.startTime)) {
    try {
      linkSync(aside, lock);
    } catch {
      /* a third starter holds it now */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* nothing to clean */
  }
}

/** Directories this process has claimed (several test apps share one process, each with its own directory). */
const claimedHere = new Set<string>();

/**
 * Claims `dir` for this process: refuses (RedisDirInUseError) when a live owner holds it, otherwise writes the lock
 * file and returns the live redis-server processes on `dir` that the caller must stop before starting its own.
 */
export function claimRedisDir(dir: string, port: number, procRoot = '/proc', self = process.pid): { orphans: number[]; release(): void } {
  const key = realpath(dir);
  if (claimedHere.has(key)) throw new RedisDirInUseError(dir, self);
  const lock = path.join(dir, OWNER_LOCKFILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      const record: OwnerRecord = { pid: self, startTime: procInfo(self, procRoot)?.startTime, port };
      writeSync(fd, JSON.stringify(record));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
      const owner = readOwner(dir);
      if (owner && owner.pid !== self && ownerAlive(owner, procRoot)) throw new RedisDirInUseError(dir, owner.pid);
      takeOverStale(lock, owner);
    }
  }
  claimedHere.add(key);
  return {
    orphans: findRedisOnDir(dir, procRoot),
    release() {
      claimedHere.delete(key);
      if (readOwner(dir)?.pid === self) {
        try {
          unlinkSync(lock);
        } catch {
          /* already gone */
        }
      }
    },
  };
}
