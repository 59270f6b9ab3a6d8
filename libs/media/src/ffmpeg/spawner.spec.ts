import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import type { Readable } from 'node:stream';
import { type ChildLike, Spawner } from './spawner';
import { SupervisedProcess, launchChildrenWith } from './supervised-process';
import { directLaunch } from './spawner';

/** Real processes: the spawner is a real `node -e` helper and the children are real node processes. */
const NODE = process.execPath;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};
const ready = (c: ChildLike) => new Promise<void>((resolve, reject) => (c.once('ready', resolve), c.once('error', reject)));
const closed = (c: ChildLike) => new Promise<[number | null, string | null]>((r) => c.once('close', (code, signal) => r([code, signal])));
const readAll = (s: Readable) => new Promise<string>((r) => {
  let out = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => (out += d));
  s.once('close', () => r(out));
});

describe('Spawner: children forked by a helper process, their pipes handed back', () => {
  let spawner: Spawner;
  beforeEach(() => {
    spawner = new Spawner();
    spawner.warm();
  });
  afterEach(() => spawner.close());

  it('pipes stdin, stdout, stderr and a fourth fd straight to the child, and reports its exit code', async () => {
    // the child echoes stdin upper-cased to stdout, fd 3's bytes to stderr, and exits 7
    const src = `const fs=require('fs');let a='';process.stdin.on('data',d=>a+=d);process.stdin.on('end',()=>{process.stdout.write(a.toUpperCase());process.stderr.write(fs.readFileSync(3,'utf8'));process.exitCode=7;});`;
    const c = spawner.launch(NODE, ['-e', src], 4);
    await ready(c);
    expect(c.pid).toBeGreaterThan(0);
    expect(c.pid).not.toBe(spawner.pid);
    expect(c.stdio[3]).toBeInstanceOf(Socket);
    const out = readAll(c.stdout!);
    const err = readAll(c.stderr!);
    const done = closed(c);
    (c.stdio[3] as Socket).end('from fd3');
    c.stdin!.end('hello');
    expect(await done).toEqual([7, null]);
    expect(await out).toBe('HELLO');
    expect(await err).toBe('from fd3');
  });

  it('a missing binary: error then close, like ChildProcess, and the spawner carries on', async () => {
    const c = spawner.launch('/nonexistent/ffmpeg', [], 3);
    const err = new Promise<Error>((r) => c.once('error', r));
    const done = closed(c);
    expect((await err).message).toMatch(/ENOENT/);
    await done;
    const ok = spawner.launch(NODE, ['-e', 'process.exit(0)'], 3);
    expect(await closed(ok)).toEqual([0, null]);
  });

  it('kill() before the pid is known is applied when it arrives', async () => {
    const c = spawner.launch(NODE, ['-e', 'setInterval(()=>{},1000)'], 3);
    c.kill('SIGKILL');
    expect(await closed(c)).toEqual([null, 'SIGKILL']);
  });

  it('a spawner killed with -9 takes its children with it (killed from here) and a new one is started on the next launch', async () => {
    const c = spawner.launch(NODE, ['-e', 'setInterval(()=>{},1000)'], 3);
    await ready(c);
    const pid = c.pid!;
    const first = spawner.pid!;
    const done = closed(c);
    process.kill(first, 'SIGKILL');
    expect((await done)[1]).toBe('SIGKILL');
    await until(() => !alive(pid));
    const next = spawner.launch(NODE, ['-e', 'process.exit(3)'], 3);
    expect(await closed(next)).toEqual([3, null]);
    expect(spawner.pid).not.toBe(first);
  });

  it('closing the spawner (its parent going away) makes it kill its children', async () => {
    const c = spawner.launch(NODE, ['-e', 'setInterval(()=>{},1000)'], 3);
    await ready(c);
    const pid = c.pid!;
    spawner.close();
    await until(() => !alive(pid));
  });

  it('SupervisedProcess runs over it: a restart kills the old child and starts a new one', async () => {
    launchChildrenWith(spawner.launch);
    try {
      const p = new SupervisedProcess({ name: 'test', command: NODE, args: () => ['-e', 'setInterval(()=>{},1000)'], minBackoffMs: 20 });
      const pids: number[] = [];
      p.on('spawn', (child) => pids.push(child.pid!));
      p.start();
      await until(() => p.running);
      p.restartNow();
      await until(() => pids.length === 2 && p.running);
      await until(() => !alive(pids[0]));
      expect(alive(pids[1])).toBe(true);
      await p.stop(200);
      await until(() => !alive(pids[1]));
    } finally {
      launchChildrenWith(directLaunch);
    }
  });

  // The parent is a real separate Node process (spawner.ts transpiled on the fly: it needs only Node's built-ins).
  it.each(['exits', 'is killed with -9'])('when the server process %s, the spawner and its children go too', async (how) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'spawner-spec-'));
    const js = ts.transpileModule(readFileSync(path.join(__dirname, 'spawner.ts'), 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
    writeFileSync(path.join(dir, 'spawner.js'), js.outputText);
    const script = `const { Spawner } = require(${JSON.stringify(path.join(dir, 'spawner.js'))});
      const keep = setInterval(() => {}, 1000); const s = new Spawner(); const c = s.launch('sleep', ['30'], 3);
      c.once('ready', () => { console.log(JSON.stringify([s.pid, c.pid])); ${how === 'exits' ? 'process.exit(0)' : "process.kill(process.pid, 'SIGKILL')"}; });`;
    const server = spawn(NODE, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    // the first line (not the pipe's close: the spawner inherits this stdout)
    const line = await new Promise<string>((r) => {
      let out = '';
      server.stdout.setEncoding('utf8').on('data', (d: string) => (out += d).includes('\n') && r(out.split('\n')[0]));
    });
    const [spawnerPid, childPid] = JSON.parse(line) as [number, number];
    expect(spawnerPid).toBeGreaterThan(0);
    expect(childPid).toBeGreaterThan(0);
    await until(() => !alive(spawnerPid) && !alive(childPid), 3000);
  });
});
