/**
 * WebRTC peers in a child process: light viewers (test/helpers/light-viewer.ts), synthetic publishers and decoding
 * "watchers", driven over JSON lines (commands on the child's stdin, one reply per command on its stdout). The load
 * then runs on another event loop than the test's (which may be hosting the server, startTestApp) or the bench's.
 *
 * Peers are put in named groups: a group joins one room and leaves as a whole. Times that cross the process boundary
 * are epoch milliseconds with sub-millisecond precision ({@link epochNow}), comparable between processes of one machine.
 *
 * Under ts-jest the helpers are transpiled on the fly (they use only relative imports) into a temporary directory and
 * run with NODE_PATH pointing at node_modules; from the compiled output (dist/, e.g. the bench) the sibling
 * peer-process-child.js runs as it is.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as readline from 'node:readline';

/** Epoch ms with sub-ms precision: the time base shared with the child. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

export interface PeerProcessOptions {
  /** The server, e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  /** Admin credentials: the child mints its tokens with POST /v1/rooms/{room}/tokens. */
  apiKey: string;
  apiSecret: string;
  /** For messages (default 'peers'). */
  name?: string;
  /** Milliseconds to wait for one command's reply (default 120 000). */
  commandTimeoutMs?: number;
}

/** One peer's join: from the token request to the answer applied (signal) and to ICE + DTLS connected. */
export interface JoinTiming {
  identity: string;
  /** Epoch ms when its join started. */
  startedAt: number;
  signalMs?: number;
  connectMs?: number;
  error?: string;
}

export interface LightViewerRate {
  group: string;
  identity: string;
  /** The window actually measured (ms). */
  windowMs: number;
  kbps: number;
  videoKbps: number;
  audioKbps: number;
  videoPacketsPerSecond: number;
  audioPacketsPerSecond: number;
  /** Longest gap between two video packets inside the window (ms); below 50 ms reads as 0. */
  longestVideoGapMs: number;
  /** Counters since the viewer joined. */
  totalBytes: number;
  totalPackets: number;
}

export interface PublisherSpec {
  identity: string;
  color: [number, number, number];
  toneHz?: number;
  toneAmplitude?: number;
  width?: number;
  height?: number;
  fps?: number;
  gop?: number;
  movingBar?: boolean;
}

export interface FrameWindow {
  /** Frames decoded in [from, to]. */
  frames: number;
  fps: number;
  /** Longest time without a decoded frame in [from, to], counting from `from` to the first and from the last to `to`. */
  longestGapMs: number;
  /** Epoch ms at which that gap started. */
  longestGapAt: number;
  /** The five longest gaps, longest first. */
  topGapsMs: number[];
}

export interface ChildStats {
  /** Event-loop delay in the child since the last `stats` call (ms): shows when the child itself was the bottleneck. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** CPU seconds the child used since it started (user + system). */
  cpuSeconds: number;
}

export type PeerCommand =
  | { cmd: 'viewers'; group: string; room: string; count: number; identityPrefix?: string; concurrency?: number; connectTimeoutMs?: number; silent?: boolean }
  | { cmd: 'publishers'; group: string; room: string; people: PublisherSpec[]; concurrent?: boolean }
  | { cmd: 'watch'; group: string; room: string; identity: string; decodeWidth?: number; decodeHeight?: number }
  | { cmd: 'rates'; windowMs: number; group?: string }
  | { cmd: 'frames'; group: string; from: number; to: number }
  | { cmd: 'leave'; group: string }
  | { cmd: 'stats' }
  | { cmd: 'exit' };

export interface PeerProcess {
  readonly pid: number;
  /**
   * `count` light viewers join `room` (`concurrency` at a time, default 5); resolves when each connected or failed (not
   * connected within `connectTimeoutMs`, default 30 000).
   */
  lightViewers(group: string, room: string, count: number, opts?: { identityPrefix?: string; concurrency?: number; connectTimeoutMs?: number; silent?: boolean }): Promise<JoinTiming[]>;
  /** Per light viewer over the last `windowMs` (all groups, or one). */
  rates(windowMs: number, group?: string): Promise<LightViewerRate[]>;
  /** Synthetic publishers join `room` one after the other (or all at once); resolves when each connected or failed. */
  publishers(group: string, room: string, people: PublisherSpec[], opts?: { concurrent?: boolean }): Promise<JoinTiming[]>;
  /** A decoding WHEP viewer; resolves with the ms from its join to its first decoded frame. */
  watch(group: string, room: string, identity: string): Promise<{ firstFrameMs: number }>;
  /** What the watcher of `group` decoded between two epoch times. */
  frames(group: string, from: number, to: number): Promise<FrameWindow>;
  /** Every peer of the group DELETEs its resource and closes. */
  leave(group: string): Promise<void>;
  stats(): Promise<ChildStats>;
  /** Leaves every group and ends the child (SIGTERM, then SIGKILL, if it does not end by itself). */
  close(): Promise<void>;
  /** The child's last stderr output. */
  stderrTail(): string;
}

const live = new Set<ChildProcess>();
let exitHook = false;

/**
 * The script to run and the environment it needs. Under ts-jest: peer-process-child.ts and the files it imports
 * through relative paths, transpiled one by one into the same layout under a temporary directory.
 */
function childScript(): { file: string; env: Record<string, string>; cleanup: () => void } {
  if (__filename.endsWith('.js')) return { file: path.join(__dirname, 'peer-process-child.js'), env: {}, cleanup: () => undefined };
  const ts = createRequire(__filename)('typescript') as typeof import('typescript');
  const root = path.resolve(__dirname, '..', '..');
  const out = mkdtempSync(path.join(tmpdir(), 'peer-process-'));
  const todo = [path.join(__dirname, 'peer-process-child.ts')];
  const done = new Set<string>();
  while (todo.length) {
    const file = todo.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const src = readFileSync(file, 'utf8');
    for (const imp of ts.preProcessFile(src, true, false).importedFiles) {
      if (!imp.fileName.startsWith('.')) continue;
      const base = path.resolve(path.dirname(file), imp.fileName);
      const found = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => existsSync(f));
      if (!found) throw new Error(`peer process: cannot resolve ${imp.fileName} from ${file}`);
      todo.push(found);
    }
    const js = ts.transpileModule(src, {
      fileName: path.basename(file),
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    const target = path.join(out, path.relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, js.outputText);
  }
  return {
    file: path.join(out, path.relative(root, __dirname), 'peer-process-child.js'),
    env: { NODE_PATH: path.join(root, 'node_modules') },
    cleanup: () => rmSync(out, { recursive: true, force: true }),
  };
}

export async function startPeerProcess(opts: PeerProcessOptions): Promise<PeerProcess> {
  const name = opts.name ?? 'peers';
  const script = childScript();
  const child = spawn(process.execPath, [script.file, JSON.stringify({ baseUrl: opts.baseUrl, apiKey: opts.apiKey, apiSecret: opts.apiSecret })], {
    env: { ...process.env, ...script.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGTERM');
    });
  }
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-8192);
    if (process.env.PEER_PROCESS_VERBOSE) process.stderr.write(`[${name}] ${d.toString('utf8')}`);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      script.cleanup();
      for (const p of pending.values()) p.reject(new Error(`${name} (pid ${child.pid}) exited (code ${code}, signal ${signal}): ${stderr.slice(-2000)}`));
      pending.clear();
      resolve();
    });
  });

  let nextId = 1;
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    let msg: { id?: number; ok?: boolean; result?: unknown; error?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      stderr = (stderr + `(stdout) ${line}\n`).slice(-8192);
      return;
    }
    const p = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id!);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${name}: ${msg.error}`));
  });

  const request = <T>(command: PeerCommand): Promise<T> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`${name} has exited: ${stderr.slice(-2000)}`));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name}: no reply to ${command.cmd} within ${opts.commandTimeoutMs ?? 120_000} ms`));
      }, opts.commandTimeoutMs ?? 120_000);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  };

  await request<null>({ cmd: 'stats' }); // started and answering
  return {
    pid: child.pid!,
    lightViewers: (group, room, count, o = {}) => request({ cmd: 'viewers', group, room, count, ...o }),
    rates: (windowMs, group) => request({ cmd: 'rates', windowMs, group }),
    publishers: (group, room, people, o = {}) => request({ cmd: 'publishers', group, room, people, ...o }),
    watch: (group, room, identity) => request({ cmd: 'watch', group, room, identity }),
    frames: (group, from, to) => request({ cmd: 'frames', group, from, to }),
    leave: (group) => request({ cmd: 'leave', group }),
    stats: () => request({ cmd: 'stats' }),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([request({ cmd: 'exit' }).catch(() => undefined), new Promise((r) => (wait = setTimeout(r, 15_000)))]);
      clearTimeout(wait); // else it holds the test process for the rest of the 15 s
      const term = setTimeout(() => child.kill('SIGTERM'), 3000);
      const kill = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(term);
      clearTimeout(kill);
    },
    stderrTail: () => stderr,
  };
}
