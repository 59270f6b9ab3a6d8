import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { childMemoryLimitMb, DEFAULT_CHILD_MEMORY_MB, findPrlimit, limitedCommand, withMemoryLimit } from './memory-limit';
import { launchChild, launchChildrenWith } from './launch';
import { type ChildLike, directLaunch, Spawner } from './spawner';

const maxData = (pid: number) => /^Max data size\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1];
const run = (c: ChildLike) =>
  new Promise<{ code: number | null; stderr: string; limit?: string }>((resolve, reject) => {
    let stderr = '';
    let limit: string | undefined;
    c.once('error', reject);
    c.once('ready', async () => {
      // read while it runs, once prlimit has exec'd ffmpeg: the pid stays the same
      for (let i = 0; i < 100 && limit === undefined; i++) {
        try {
          if (readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').startsWith('ffmpeg\0')) limit = maxData(c.pid!);
        } catch {
          break; // already gone
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    c.once('ready', () => {
      (c.stderr as Readable).on('data', (d: Buffer) => (stderr += d.toString()));
      c.stdout?.resume();
    });
    c.once('close', (code) => resolve({ code, stderr, limit }));
  });
// a 1080p x264 encode: ~100 MB of data, well inside the default bound, far outside 64 MB
const ENCODE = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-frames:v', '5', '-c:v', 'libx264', '-f', 'null', '-'];

describe('withMemoryLimit / childMemoryLimitMb (pure)', () => {
  it('starts the command through prlimit with a hard and soft RLIMIT_DATA, the command and its arguments untouched', () => {
    expect(withMemoryLimit('/usr/bin/ffmpeg', ['-i', 'x y', '--'], 64, '/usr/bin/prlimit')).toEqual({
      command: '/usr/bin/prlimit',
      args: ['--data=67108864:67108864', '--', '/usr/bin/ffmpeg', '-i', 'x y', '--'],
    });
  });
  it('leaves the command alone with no bound (0) or no prlimit', () => {
    expect(withMemoryLimit('ffmpeg', ['-version'], 0, '/usr/bin/prlimit')).toEqual({ command: 'ffmpeg', args: ['-version'] });
    expect(withMemoryLimit('ffmpeg', ['-version'], 64, undefined)).toEqual({ command: 'ffmpeg', args: ['-version'] });
  });
  it('reads FFMPEG_MAX_MEMORY_MB: default 1024, 0 for none', () => {
    expect(childMemoryLimitMb({})).toBe(DEFAULT_CHILD_MEMORY_MB);
    expect(DEFAULT_CHILD_MEMORY_MB).toBe(1024);
    expect(childMemoryLimitMb({ FFMPEG_MAX_MEMORY_MB: '0' })).toBe(0);
    expect(childMemoryLimitMb({ FFMPEG_MAX_MEMORY_MB: '300' })).toBe(300);
  });
});

describe('launchChild bounds real ffmpeg children (prlimit of util-linux)', () => {
  const saved = process.env.FFMPEG_MAX_MEMORY_MB;
  let spawner: Spawner | undefined;
  afterEach(() => {
    if (saved === undefined) delete process.env.FFMPEG_MAX_MEMORY_MB;
    else process.env.FFMPEG_MAX_MEMORY_MB = saved;
    launchChildrenWith(directLaunch);
    spawner?.close();
    spawner = undefined;
  });

  it('this machine has prlimit (util-linux is essential on Debian)', () => {
    expect(findPrlimit()).toMatch(/prlimit$/);
  });

  it.each(['direct', 'spawner'])('%s: the default bound lets a 1080p encoder run; 64 MB makes it fail with an allocation error, not take memory', async (how) => {
    if (how === 'spawner') {
      spawner = new Spawner();
      launchChildrenWith(spawner.launch);
    }
    delete process.env.FFMPEG_MAX_MEMORY_MB;
    const ok = await run(launchChild('ffmpeg', ENCODE, 3));
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.limit).toBe(String(1024 * 1024 * 1024));

    process.env.FFMPEG_MAX_MEMORY_MB = '64';
    const bounded = await run(launchChild('ffmpeg', ENCODE, 3));
    expect(bounded.code).not.toBe(0);
    expect(bounded.stderr).toMatch(/malloc|memory|allocat/i);
  }, 30_000);

  it('a missing command is not hidden behind prlimit: it fails its own spawn with ENOENT', async () => {
    expect(limitedCommand('/nonexistent/ffmpeg', ['-version'])).toEqual({ command: '/nonexistent/ffmpeg', args: ['-version'] });
    await expect(run(launchChild('/nonexistent/ffmpeg', ['-version'], 3))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
