import { launchChildrenWith } from '../ffmpeg/launch';
import { directLaunch, Spawner } from '../ffmpeg/spawner';
import { type FfmpegExit, ffmpegExit, stderrTail } from './ffmpeg-exit';
import { FfmpegJob } from './ffmpeg-job';

const enoent = Object.assign(new Error('spawn /x/ffmpeg ENOENT'), { code: 'ENOENT' });
const eacces = Object.assign(new Error('spawn /x/ffmpeg EACCES'), { code: 'EACCES' });

describe('why an ffmpeg job ended (pure)', () => {
  it('a binary that never ran: spawn-failed, in words', () => {
    expect(ffmpegExit({ command: '/x/ffmpeg', code: null, signal: null, stderr: '', spawnError: enoent })).toEqual({ kind: 'spawn-failed', code: null, signal: null, stderrTail: '', message: 'ffmpeg not found at /x/ffmpeg' });
    expect(ffmpegExit({ command: '/x/ffmpeg', code: null, signal: null, stderr: '', spawnError: eacces }).message).toBe('cannot run ffmpeg at /x/ffmpeg: spawn /x/ffmpeg EACCES');
  });
  it('an exit code: exited, with the last lines of stderr', () => {
    const e = ffmpegExit({ command: 'ffmpeg', code: 1, signal: null, stderr: 'a\n\nb\nc\n', tailLines: 2 });
    expect(e).toEqual({ kind: 'exited', code: 1, signal: null, stderrTail: 'b | c', message: 'ffmpeg exited with 1: b | c' });
    expect(ffmpegExit({ command: 'ffmpeg', code: 0, signal: null, stderr: '' }).message).toBe('ffmpeg exited with 0: no output');
  });
  it('a signal: killed', () => {
    expect(ffmpegExit({ command: 'ffmpeg', code: null, signal: 'SIGKILL', stderr: 'x' })).toMatchObject({ kind: 'killed', signal: 'SIGKILL', message: 'ffmpeg exited with SIGKILL: x' });
  });
  it('keeps the last lines, trimmed, without blank ones', () => {
    expect(stderrTail('  1\n2\n\n3  \n', 2)).toBe('2 | 3');
    expect(stderrTail('', 5)).toBe('');
  });
});

/** Real child processes (node scripts standing in for ffmpeg), started directly and through a spawner. */
const NODE = process.execPath;
/** Reads stdin and fd 3 to their end, says how many bytes on stderr, exits 0. */
const DRAIN = `const fs=require('fs');let n=0,open=2;for(const fd of [0,3]){const s=fs.createReadStream(null,{fd});s.on('data',d=>n+=d.length);s.on('end',()=>{if(--open===0){process.stderr.write('got '+n+'\\n');process.exit(0)}})}`;

describe.each([
  ['directly', () => undefined],
  ['through a spawner', () => new Spawner()],
])('FfmpegJob, started %s', (_how, makeSpawner) => {
  let spawner: Spawner | undefined;
  beforeAll(() => {
    spawner = makeSpawner();
    if (spawner) launchChildrenWith(spawner.launch);
  });
  afterAll(() => {
    launchChildrenWith(directLaunch);
    spawner?.close();
  });

  it('a graceful stop ends its pipes and it finishes by itself', async () => {
    const job = new FfmpegJob({ name: 't', command: NODE, args: ['-e', DRAIN], fd3: true });
    const ready = new Promise<void>((r) => job.once('ready', (child, fd3) => (child.stdin.write('abc'), fd3!.write('de'), r())));
    job.start();
    await ready;
    expect(job.running).toBe(true);
    const exit = await job.stop(5000);
    expect(exit).toMatchObject({ kind: 'exited', code: 0, stderrTail: 'got 5' });
    expect(job.running).toBe(false);
  });

  it('one that ignores the end of its input is killed after the grace', async () => {
    const job = new FfmpegJob({ name: 't', command: NODE, args: ['-e', 'process.stdin.resume(); setInterval(()=>{},1000)'] });
    const ready = new Promise((r) => job.once('ready', r));
    job.start();
    await ready;
    const t0 = Date.now();
    expect(await job.stop(300)).toMatchObject({ kind: 'killed', signal: 'SIGKILL' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('its own exit: the code and the stderr tail, secrets redacted, stdout as text', async () => {
    const job = new FfmpegJob({ name: 't', command: NODE, args: ['-e', "console.log('out=1'); console.error('to rtmp://h/app/KEY failed'); process.exit(3)"], stdout: 'text', redact: (s) => s.split('KEY').join('***') });
    let out = '';
    job.on('stdout', (t) => (out += t));
    job.start();
    expect(await job.exited()).toMatchObject({ kind: 'exited', code: 3, message: 'ffmpeg exited with 3: to rtmp://h/app/*** failed' });
    expect(out).toBe('out=1\n');
  });

  it('a missing binary ends it as spawn-failed, and the process lives', async () => {
    const job = new FfmpegJob({ name: 't', command: '/nonexistent/ffmpeg', args: [] });
    job.start();
    expect(await job.exited()).toMatchObject({ kind: 'spawn-failed', message: 'ffmpeg not found at /nonexistent/ffmpeg' });
    expect(await job.stop(100)).toMatchObject({ kind: 'spawn-failed' });
  });
});

describe('FfmpegJob stderr redaction', () => {
  it('hides a secret that arrives split across two stderr chunks (redaction runs on whole lines)', async () => {
    const SECRET = 'sk-live-0123456789abcdef';
    // writes the secret in two pieces, 200 ms apart (two reads on our side), then exits 1
    const script = `process.stderr.write('Opening output rtmp://x/app/${SECRET.slice(0, 10)}');setTimeout(()=>{process.stderr.write('${SECRET.slice(10)} failed\\nI/O error\\n');process.exit(1)},200)`;
    const debug: string[] = [];
    const job = new FfmpegJob({ name: 't', command: process.execPath, args: ['-e', script], redact: (s) => s.split(SECRET).join('***'), logger: { debug: (m) => debug.push(m) } });
    const ended = new Promise<FfmpegExit>((r) => job.once('exit', r));
    job.start();
    const exit = await ended;
    expect(exit.kind).toBe('exited');
    expect(exit.message).toContain('rtmp://x/app/*** failed');
    expect(exit.message).not.toContain(SECRET.slice(0, 10));
    expect(exit.message).not.toContain(SECRET.slice(10));
    expect(debug.join('\n')).toContain('***');
    expect(debug.join('\n')).not.toContain(SECRET.slice(0, 10));
    expect(debug.join('\n')).not.toContain(SECRET.slice(10));
  });

  it('a last line without a newline is still kept (and redacted) when the process ends', async () => {
    const job = new FfmpegJob({ name: 't', command: process.execPath, args: ['-e', `process.stderr.write('done with SECRETKEY');process.exit(2)`], redact: (s) => s.split('SECRETKEY').join('***') });
    const ended = new Promise<FfmpegExit>((r) => job.once('exit', r));
    job.start();
    const exit = await ended;
    expect(exit.stderrTail).toBe('done with ***');
  });
});
