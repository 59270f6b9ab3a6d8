import * as net from 'node:net';
import { isRedisUnavailable, redactRedisUrl, REQUEST_COMMAND_TIMEOUT_MS, RedisConnections, webhookUrlForLog } from './redis-connections';

/** A TCP server that accepts connections and never answers: a Redis that is stopped (SIGSTOP) or cut off. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

/** A port nothing listens on (a Redis that is down). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const timed = async (p: Promise<unknown>): Promise<{ ms: number; error?: unknown }> => {
  const t0 = Date.now();
  try {
    await p;
    return { ms: Date.now() - t0 };
  } catch (error) {
    return { ms: Date.now() - t0, error };
  }
};

describe('request-path Redis connections', () => {
  const conns: RedisConnections[] = [];
  afterEach(() => conns.splice(0).forEach((c) => c.closeAll()));

  it('a command to a Redis that never answers fails within the request time box, as "unavailable"', async () => {
    const srv = await silentServer();
    const c = new RedisConnections(`redis://127.0.0.1:${srv.port}`);
    conns.push(c);
    const r = c.create({ request: true });
    const { ms, error } = await timed(r.get('x'));
    expect(error).toBeInstanceOf(Error);
    expect(isRedisUnavailable(error)).toBe(true);
    expect(ms).toBeLessThan(REQUEST_COMMAND_TIMEOUT_MS + 1000);
    await srv.close();
  });

  it('a command to a Redis that refuses connections fails quickly, as "unavailable"', async () => {
    const c = new RedisConnections(`redis://127.0.0.1:${await closedPort()}`);
    conns.push(c);
    const r = c.create({ request: true });
    const { ms, error } = await timed(r.get('x'));
    expect(isRedisUnavailable(error)).toBe(true);
    expect(ms).toBeLessThan(REQUEST_COMMAND_TIMEOUT_MS + 1000);
  });

  it('a background connection (BullMQ workers, subscribers) keeps waiting for Redis to come back', async () => {
    const srv = await silentServer();
    const c = new RedisConnections(`redis://127.0.0.1:${srv.port}`);
    conns.push(c);
    const r = c.create();
    const settled = await Promise.race([r.get('x').then(() => 'answered', () => 'failed'), new Promise((res) => setTimeout(() => res('waiting'), REQUEST_COMMAND_TIMEOUT_MS + 800))]);
    expect(settled).toBe('waiting');
    c.closeAll();
    await srv.close();
  });
});

describe('isRedisUnavailable', () => {
  it('is true for connection-level failures and false for Redis replies and other errors', () => {
    expect(isRedisUnavailable(new Error('Command timed out'))).toBe(true);
    expect(isRedisUnavailable(new Error('Connection is closed.'))).toBe(true);
    expect(isRedisUnavailable(Object.assign(new Error('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.'), { name: 'MaxRetriesPerRequestError' }))).toBe(true);
    expect(isRedisUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRedisUnavailable(Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), { name: 'ReplyError' }))).toBe(false);
    expect(isRedisUnavailable(new Error('room "x" not found'))).toBe(false);
    expect(isRedisUnavailable(undefined)).toBe(false);
    expect(isRedisUnavailable('Command timed out')).toBe(false);
  });
});


describe('URLs in log lines', () => {
  it('a Redis URL loses its password wherever it is written', () => {
    expect(redactRedisUrl('redis://:s3cret@127.0.0.1:6400')).toBe('redis://***@127.0.0.1:6400');
    expect(redactRedisUrl('rediss://user:pw@redis.example:6380/0')).toBe('rediss://***@redis.example:6380/0');
    expect(redactRedisUrl('redis://redis.example:6379/0?password=s3cret&db=1')).toBe('redis://redis.example:6379/0?password=***&db=1');
    expect(redactRedisUrl('redis://10.0.0.2:6379')).toBe('redis://10.0.0.2:6379');
  });

  it('a webhook URL is shown as its origin only (its path and query often are the secret)', () => {
    expect(webhookUrlForLog('https://hooks.example.com/services/T000/B000/XXXXSECRET?token=abc')).toBe('https://hooks.example.com/***');
    expect(webhookUrlForLog('https://user:pw@hooks.example.com:8443/x')).toBe('https://hooks.example.com:8443/***');
    expect(webhookUrlForLog('http://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000/***');
    expect(webhookUrlForLog('not a url')).toBe('***');
  });
});
