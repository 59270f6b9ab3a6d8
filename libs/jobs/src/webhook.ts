import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook deliveries are signed with WEBHOOK_SECRET (its own key: a receiver holds it, so it must open nothing else):
 *
 *   X-MCU-Timestamp: <unix seconds when this attempt was sent>
 *   X-MCU-Signature: sha256=<hex HMAC-SHA256 of `${timestamp}.${raw body}`>
 *
 * A receiver recomputes the HMAC over the timestamp header, a dot and the raw body, compares in constant time, and
 * refuses a timestamp more than WEBHOOK_TOLERANCE_SECONDS away from its clock (a captured delivery cannot be replayed
 * later); within the window, `X-MCU-Event-Id` (the same on every retry of one event) tells repeats apart. Every retry is
 * signed afresh, so a delivery retried hours later is still inside the window. `verifyWebhook` does all of it.
 */
export const SIGNATURE_HEADER = 'x-mcu-signature';
export const TIMESTAMP_HEADER = 'x-mcu-timestamp';
export const EVENT_ID_HEADER = 'x-mcu-event-id';
/** How far a receiver should accept a delivery's timestamp from its own clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** `sha256=<hex>` of `${timestamp}.${body}` under the secret. */
export function signWebhook(body: string, secret: string, timestamp: number): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The signature headers of one delivery attempt. */
export function webhookSignatureHeaders(body: string, secret: string, nowSeconds = Date.now() / 1000): Record<string, string> {
  const timestamp = Math.floor(nowSeconds);
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signWebhook(body, secret, timestamp) };
}

export type WebhookVerdict = { ok: true; timestamp: number } | { ok: false; reason: string };

/** What a receiver does with a delivery: the signature over timestamp and raw body, and the timestamp within the window. */
export function verifyWebhook(
  rawBody: string,
  headers: { timestamp?: string | string[]; signature?: string | string[] },
  secret: string,
  o: { nowSeconds?: number; toleranceSeconds?: number } = {},
): WebhookVerdict {
  const ts = Array.isArray(headers.timestamp) ? headers.timestamp[0] : headers.timestamp;
  const sig = Array.isArray(headers.signature) ? headers.signature[0] : headers.signature;
  if (!ts || !/^\d{1,12}$/.test(ts)) return { ok: false, reason: `missing or malformed ${TIMESTAMP_HEADER}` };
  if (!sig) return { ok: false, reason: `missing ${SIGNATURE_HEADER}` };
  const timestamp = Number(ts);
  const expected = Buffer.from(signWebhook(rawBody, secret, timestamp));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature does not match' };
  const now = o.nowSeconds ?? Date.now() / 1000;
  const tolerance = o.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) return { ok: false, reason: `timestamp is ${Math.round(now - timestamp)} s from now (more than ${tolerance} s): a replay?` };
  return { ok: true, timestamp };
}
