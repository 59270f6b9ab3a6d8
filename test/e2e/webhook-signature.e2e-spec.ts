import { createHmac } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp, waitFor } from '../support/app-harness';

/**
 * Issue 14: webhooks are signed with their own WEBHOOK_SECRET (not MCU_API_SECRET, which would let a receiver mint
 * tokens), over `${X-MCU-Timestamp}.${body}`, so a receiver can refuse replays outside its window.
 */
const WEBHOOK_SECRET = 'webhook-only-secret-0123456789abcdef';

type Delivery = { body: string; headers: http.IncomingHttpHeaders; receivedAt: number };

describe('webhook signatures', () => {
  let t: TestApp;
  let server: http.Server;
  const deliveries: Delivery[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        deliveries.push({ body: Buffer.concat(chunks).toString(), headers: req.headers, receivedAt: Date.now() });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    // no recording runs (concurrency 0): a queued recording and its stop are the events
    t = await startTestApp({ WEBHOOK_URL: url, WEBHOOK_SECRET, RECORDING_CONCURRENCY: '0', WEBHOOK_BACKOFF_MS: '100' });
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('signs `${timestamp}.${body}` with WEBHOOK_SECRET and sends the timestamp', async () => {
    expect((await t.admin('POST', '/v1/rooms', { name: 'hooked' })).status).toBe(201);
    const rec = await t.admin('POST', '/v1/rooms/hooked/recordings', {});
    expect(rec.status).toBe(201);
    const d = await waitFor(() => deliveries[0], 10_000, 'a webhook delivery');
    const ts = String(d.headers['x-mcu-timestamp']);
    expect(ts).toMatch(/^\d{10}$/);
    expect(Math.abs(Number(ts) - d.receivedAt / 1000)).toBeLessThan(30);
    const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(`${ts}.${d.body}`).digest('hex')}`;
    expect(d.headers['x-mcu-signature']).toBe(expected);
    // not the old scheme, and not keyed with the admin secret
    expect(d.headers['x-mcu-signature']).not.toBe(`sha256=${createHmac('sha256', t.config.apiSecret).update(d.body).digest('hex')}`);
    expect(d.headers['x-mcu-signature']).not.toBe(`sha256=${createHmac('sha256', t.config.apiSecret).update(`${ts}.${d.body}`).digest('hex')}`);
    expect(JSON.parse(d.body)).toMatchObject({ type: 'recording.status', seq: 1, recording: { status: 'queued' } });
    expect(d.headers['x-mcu-event-id']).toBe(`${(rec.json as { id: string }).id}-1`);
    expect((await t.admin('POST', `/v1/recordings/${(rec.json as { id: string }).id}/stop`)).status).toBe(202);
  });
});
