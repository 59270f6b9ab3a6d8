import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhook, webhookSignatureHeaders } from './webhook';

const SECRET = 'webhook-secret-0123456789';
const body = '{"type":"recording.status","seq":1}';

describe('webhook signatures', () => {
  it('sign `${timestamp}.${body}` with HMAC-SHA256, sha256=<hex> as before, the timestamp in its own header', () => {
    const h = webhookSignatureHeaders(body, SECRET, 1_700_000_000.9);
    expect(h['x-mcu-timestamp']).toBe('1700000000');
    expect(h['x-mcu-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(`1700000000.${body}`).digest('hex')}`);
    expect(signWebhook(body, SECRET, 1)).not.toBe(signWebhook(body, SECRET, 2));
  });

  it('verify: the right secret, body and timestamp within the window', () => {
    const h = webhookSignatureHeaders(body, SECRET, 1000);
    const headers = { timestamp: h['x-mcu-timestamp'], signature: h['x-mcu-signature'] };
    expect(verifyWebhook(body, headers, SECRET, { nowSeconds: 1000 })).toEqual({ ok: true, timestamp: 1000 });
    expect(verifyWebhook(body, headers, SECRET, { nowSeconds: 1299 }).ok).toBe(true);
    expect(verifyWebhook(body, headers, SECRET, { nowSeconds: 1301 })).toEqual({ ok: false, reason: expect.stringContaining('replay') });
    expect(verifyWebhook(body, headers, SECRET, { nowSeconds: 699 }).ok).toBe(false); // from the future too
    expect(verifyWebhook(`${body} `, headers, SECRET, { nowSeconds: 1000 })).toEqual({ ok: false, reason: 'signature does not match' });
    expect(verifyWebhook(body, headers, 'another-secret-0123456789', { nowSeconds: 1000 }).ok).toBe(false);
    // the timestamp is signed: moving it forward to pass the window breaks the signature
    expect(verifyWebhook(body, { ...headers, timestamp: '1400' }, SECRET, { nowSeconds: 1400 })).toEqual({ ok: false, reason: 'signature does not match' });
    expect(verifyWebhook(body, { signature: headers.signature }, SECRET).ok).toBe(false);
    expect(verifyWebhook(body, { timestamp: headers.timestamp }, SECRET, { nowSeconds: 1000 }).ok).toBe(false);
    expect(verifyWebhook(body, { timestamp: 'x', signature: headers.signature }, SECRET).ok).toBe(false);
  });

  it('the old body-only signature no longer verifies', () => {
    const old = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    expect(verifyWebhook(body, { timestamp: '1000', signature: old }, SECRET, { nowSeconds: 1000 }).ok).toBe(false);
  });
});
