import { createHmac } from 'node:crypto';

/** Webhook bodies are signed: `X-MCU-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with MCU_API_SECRET>`. */
export const SIGNATURE_HEADER = 'x-mcu-signature';

export function signWebhook(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
