/**
 * Guards against import cycles among the sources of apps/ and libs/ (type-only imports included: a cycle of types is
 * still two files that cannot be understood, or moved, one without the other). Reads the import/export-from/require
 * specifiers of every non-spec .ts file under apps/{name}/src and libs/{name}/src, resolves relative paths and the
 * `@app/{lib}` aliases, and reports every strongly connected component of more than one file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const top of ['apps', 'libs']) {
    for (const pkg of fs.readdirSync(path.join(ROOT, top))) {
      const src = path.join(ROOT, top, pkg, 'src');
      if (fs.existsSync(src)) walk(src);
    }
  }
  return out;
}

function resolve(from: string, spec: string): string | undefined {
  let base: string;
  const alias = /^@app\/([^/]+)(?:\/(.*))?$/.exec(spec);
  if (alias) base = path.join(ROOT, 'libs', alias[1], 'src', alias[2] ?? '');
  else if (spec.startsWith('.')) base = path.resolve(path.dirname(from), spec);
  else return undefined; // a package
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Tarjan's strongly connected components; returns those with more than one file. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.map((f) => path.relative(ROOT, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('import graph of apps/ and libs/', () => {
  const files = sourceFiles();
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    const deps = [...text.matchAll(SPECIFIER)].map((m) => resolve(f, m[1])).filter((d): d is string => d !== undefined);
    graph.set(f, [...new Set(deps)]);
  }

  it('reads the sources (sanity: the resolver finds edges, including through @app aliases)', () => {
    expect(files.length).toBeGreaterThan(50);
    const aliasEdges = [...graph.values()].flat().filter((d) => d.endsWith(path.join('src', 'index.ts')));
    expect(aliasEdges.length).toBeGreaterThan(0);
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('the checker itself sees a cycle', () => {
    const g = new Map([
      ['/a.ts', ['/b.ts']],
      ['/b.ts', ['/c.ts']],
      ['/c.ts', ['/a.ts']],
      ['/d.ts', ['/a.ts']],
    ]);
    expect(cycles(g)).toHaveLength(1);
    expect(cycles(g)[0]).toHaveLength(3);
  });
});
