import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { freePort } from '@app/jobs';
import { fetchJson } from './http-json';
import { within } from './within';
import * as path from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Several MCU nodes on one real Redis, as separate processes of the built server (`dist/`): each with its own HTTP port,
 * UDP range, NODE_ID and data directory, and one recordings directory shared by the nodes and a separate worker (as a
 * shared volume would be).
 */
export const CLUSTER_KEY = 'cluster-test-key';
export const CLUSTER_SECRET = 'cluster-test-secret-0123456789abcdef';
/** The repository (this file runs from test/support under jest, from dist/test/support in the bench). */
const REPO = [path.join(__dirname, '..', '..'), path.join(__dirname, '..', '..', '..')].find((d) => existsSync(path.join(d, 'package.json')))!;
const ROOT = path.join(REPO, 'dist', 'apps');

export interface ClusterNode {
  id: string;
  url: string;
  proc: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export interface TestCluster {
  redisUrl: string;
  recordingsDir: string;
  nodes: ClusterNode[];
  worker?: ChildProcess;
  /** Starts a (killed) node again with the same id, port and settings; resolves once it is ready. */
  restart(node: ClusterNode): Promise<ClusterNode>;
  /** A request to one node with admin Basic auth. */
  admin(node: ClusterNode, method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }>;
  token(node: ClusterNode, room: string, identity: string, extra?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) return;
    if (Date.now() > until) throw new Error(`${url} not ready within ${timeoutMs} ms`);
    await sleep(200);
  }
}

export async function startCluster(o: { nodes: number; worker?: boolean; env?: Record<string, string> }): Promise<TestCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcu-cluster-'));
  const recordingsDir = path.join(dir, 'recordings');
  mkdirSync(recordingsDir, { recursive: true });
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const common = { ...process.env, REDIS_URL: redisUrl, MCU_API_KEY: CLUSTER_KEY, MCU_API_SECRET: CLUSTER_SECRET, RECORDINGS_DIR: recordingsDir, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', LOG_FORMAT: 'json' };
  const nodes: ClusterNode[] = [];
  const letters = 'abcdefgh';
  const envs = new Map<string, NodeJS.ProcessEnv>();
  const spawnNode = (id: string, url: string, env: NodeJS.ProcessEnv): ClusterNode => {
    envs.set(id, env);
    const proc = spawn(process.execPath, [path.join(ROOT, 'server/src/main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    proc.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    proc.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) => proc.once('exit', (code, signal) => r({ code, signal, at: Date.now() })));
    return { id, url, proc, output, exited };
  };
  for (let i = 0; i < o.nodes; i++) {
    const port = await freePort();
    const id = `node-${letters[i]}`;
    const url = `http://127.0.0.1:${port}`;
    const rtcBase = 42000 + i * 400 + Math.floor(Math.random() * 40) * 5;
    nodes.push(
      spawnNode(id, url, {
        ...common,
        NODE_ID: id,
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: url,
        DATA_DIR: path.join(dir, id),
        RTC_MIN_PORT: String(rtcBase),
        RTC_MAX_PORT: String(rtcBase + 199),
        MEDIA_WORKERS: '1',
        RUN_WORKER: 'false',
        SHUTDOWN_TIMEOUT_SECONDS: '15',
        // as in app-harness: the measured load is mostly the test's own peers on 2 shared cores
        MAX_WORKER_ELU: '1',
        MAX_WORKER_LAG_MS: '60000',
        ...o.env,
      }),
    );
  }
  try {
    await Promise.all(nodes.map((n) => waitReady(n.url)));
  } catch (e) {
    for (const n of nodes) console.log(`--- ${n.id}\n${n.output.join('').slice(-3000)}`);
    throw e;
  }
  let worker: ChildProcess | undefined;
  if (o.worker) {
    worker = spawn(process.execPath, [path.join(ROOT, 'worker/src/main.js')], {
      env: { ...common, MCU_SERVER_URL: nodes[0].url },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  const basic = `Basic ${Buffer.from(`${CLUSTER_KEY}:${CLUSTER_SECRET}`).toString('base64')}`;
  const admin = (node: ClusterNode, method: string, urlPath: string, body?: unknown) =>
    fetchJson(`${node.url}${urlPath}`, { method, headers: { authorization: basic, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return {
    redisUrl,
    recordingsDir,
    nodes,
    worker,
    async restart(node) {
      const again = spawnNode(node.id, node.url, envs.get(node.id)!);
      nodes[nodes.indexOf(node)] = again;
      await waitReady(again.url);
      return again;
    },
    admin,
    async token(node, room, identity, extra = {}) {
      const r = await admin(node, 'POST', `/v1/rooms/${room}/tokens`, { identity, ...extra });
      if (r.status !== 201) throw new Error(`token: ${r.status} ${JSON.stringify(r.json)}`);
      return (r.json as { token: string }).token;
    },
    async close() {
      worker?.kill('SIGTERM');
      for (const n of nodes) if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGTERM');
      await within(Promise.all(nodes.map((n) => n.exited)), 20_000, undefined);
      for (const n of nodes) n.proc.kill('SIGKILL');
      worker?.kill('SIGKILL');
      redis.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
