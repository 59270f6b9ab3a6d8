import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { type AppConfig, loadConfig } from '@app/config';
import { locateFfmpeg, RoomManager } from '@app/media';
import { createApp } from '../../apps/server/src/app.factory';
import { fetchJson } from './http-json';

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  baseUrl: string;
  rooms: RoomManager;
  /** A request with admin Basic auth (unless headers.authorization is given). */
  admin(method: string, urlPath: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResponse>;
  request(method: string, urlPath: string, init?: { body?: string; headers?: Record<string, string> }): Promise<HttpResponse>;
  token(room: string, identity: string, extra?: Record<string, unknown>): Promise<string>;
  /** Stops the app (a graceful shutdown, as on SIGTERM); `keepData`: leave DATA_DIR for a restart on it. */
  close(opts?: { keepData?: boolean }): Promise<void>;
}

/**
 * Starts the real application on a free loopback port, with a private data directory and (unless REDIS_URL is set)
 * its own embedded redis-server. A restart: `dataDir` and `port` of a closed app (closed with `keepData`).
 */
export async function startTestApp(env: Record<string, string> = {}, at: { dataDir?: string; port?: number } = {}): Promise<TestApp> {
  const dataDir = at.dataDir ?? mkdtempSync(path.join(tmpdir(), 'mcu-test-'));
  // against a shared Redis (REDIS_URL set) the app still runs its own workers, as it does on the embedded one: tests
  // expect recordings and webhooks to happen; their queues are this file's own (REDIS_KEY_PREFIX, jest setupFiles)
  const inherited = process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, RUN_WORKER: 'true' } : {};
  // A room worker's measured load here is mostly the test's own load generators (peers, decoders, the in-process test
  // code) sharing 2 cores with it: a thread descheduled while busy reads as a loaded worker. So admission's measured-load
  // rule is off unless a test sets it (its count limits and cost model stay; the rule itself is unit-tested and has its
  // own e2e in admission.e2e-spec.ts).
  const config = loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', MAX_WORKER_ELU: '1', MAX_WORKER_LAG_MS: '60000', ...inherited, ...env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir });
  const ffmpeg = locateFfmpeg(config.ffmpegPath, config.ffprobePath);
  const app = await createApp(config, ffmpeg);
  await app.listen(at.port ?? 0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const basic = `Basic ${Buffer.from(`${config.apiKey}:${config.apiSecret}`).toString('base64')}`;

  const request = async (method: string, urlPath: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<HttpResponse> =>
    fetchJson(`${baseUrl}${urlPath}`, { method, headers: init.headers, body: init.body });
  const admin = (method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) =>
    request(method, urlPath, {
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headers: { authorization: basic, 'content-type': 'application/json', ...headers },
    });
  return {
    app,
    config,
    baseUrl,
    rooms: app.get(RoomManager),
    admin,
    request,
    async token(room, identity, extra = {}) {
      const r = await admin('POST', `/v1/rooms/${room}/tokens`, { identity, ...extra });
      if (r.status !== 201) throw new Error(`token request failed: ${r.status} ${r.text}`);
      return (r.json as { token: string }).token;
    },
    async close(opts = {}) {
      await app.close();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export { within } from './within';

/** Polls `fn` until it returns a truthy value or the timeout passes (then throws with the last value). */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string, intervalMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}
