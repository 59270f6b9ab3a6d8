import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

/**
 * The system calls, seen by strace on a real process: each file and then its directory are fsynced. (Node's own
 * fsyncs are told apart by the paths strace prints for each descriptor, -y.)
 */
const hasStrace = spawnSync('strace', ['-V']).status === 0;
(hasStrace ? describe : describe.skip)('makeDurable (strace on a real process)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'durable-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fsyncs each file, then the directory', () => {
    const src = readFileSync(path.join(__dirname, 'durable.ts'), 'utf8');
    writeFileSync(path.join(dir, 'durable.js'), ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText);
    const files = [path.join(dir, 'a.mp4'), path.join(dir, 'b.mp4')];
    for (const f of files) writeFileSync(f, 'x');
    const run = `require(${JSON.stringify(path.join(dir, 'durable.js'))}).makeDurable(${JSON.stringify(files)}, ${JSON.stringify(dir)}).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })`;
    const log = path.join(dir, 'strace.log');
    const r = spawnSync('strace', ['-f', '-y', '-e', 'trace=fsync,fdatasync', '-o', log, process.execPath, '-e', run], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const synced = readFileSync(log, 'utf8')
      .split('\n')
      .map((l) => /f(?:data)?sync\(\d+<([^>]+)>\)\s+=\s+0/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined && p.startsWith(dir));
    expect(synced).toEqual([...files, dir]);
  });
});
