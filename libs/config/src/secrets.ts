import { hkdfSync } from 'node:crypto';
import { isPublishedSecret } from './credentials';

/**
 * One secret per purpose. MCU_API_SECRET is the admin password only; room tokens are signed with TOKEN_SECRET, webhooks
 * with WEBHOOK_SECRET, the workers' own (hidden) room tokens with WORKER_SECRET. Each one that is not set is derived from
 * MCU_API_SECRET with HKDF-SHA256 and a label of its own: the derived keys are independent (knowing one, e.g. a webhook
 * receiver's, gives neither MCU_API_SECRET nor the others), and every process with the same MCU_API_SECRET (nodes,
 * workers) derives the same ones. Setting them is what production wants (rotation of one without the others; a
 * webhook receiver needs a value it can be told), so a server on real credentials says which ones it derived, and
 * refuses a WEBHOOK_URL without a WEBHOOK_SECRET.
 */
export const SECRET_LABELS = { token: 'werift-mcu room-token key v1', webhook: 'werift-mcu webhook key v1', worker: 'werift-mcu worker-token key v1' } as const;

export function deriveSecret(apiSecret: string, label: string): string {
  return Buffer.from(hkdfSync('sha256', apiSecret, 'werift-mcu', label, 32)).toString('hex');
}

export interface SecretsInput {
  apiSecret: string;
  tokenSecret?: string;
  tokenSecretPrevious?: string;
  webhookSecret?: string;
  workerSecret?: string;
  webhookUrl?: string;
  /** The server runs on the published dev credentials (on loopback or MCU_DEV=1). */
  devCredentials: boolean;
  /** Where published placeholders ("change-me") are acceptable (see credentials.ts). */
  devAllowed: boolean;
}

export interface Secrets {
  tokenSecret: string;
  tokenSecretPrevious?: string;
  webhookSecret: string;
  workerSecret: string;
  /** The variables that were not set and were derived from MCU_API_SECRET. */
  derivedSecrets: string[];
  problems: string[];
}

export function decideSecrets(i: SecretsInput): Secrets {
  const problems: string[] = [];
  const given: Array<[string, string | undefined]> = [
    ['TOKEN_SECRET', i.tokenSecret],
    ['TOKEN_SECRET_PREVIOUS', i.tokenSecretPrevious],
    ['WEBHOOK_SECRET', i.webhookSecret],
    ['WORKER_SECRET', i.workerSecret],
  ];
  for (const [name, v] of given) {
    if (v === undefined) continue;
    if (v.length < 16) problems.push(`${name} must be at least 16 characters`);
    else if (isPublishedSecret(v) && !i.devAllowed) problems.push(`${name} is a published placeholder ("…change-me…"): set a long random value (e.g. \`openssl rand -hex 32\`)`);
    if (v === i.apiSecret) problems.push(`${name} must differ from MCU_API_SECRET (one secret per purpose)`);
  }
  // the token keys (current and previous) against the webhook and worker keys: a receiver or a worker must not hold a token key
  const purposes: Array<[string, string | undefined]> = [
    ['TOKEN_SECRET', i.tokenSecret],
    ['WEBHOOK_SECRET', i.webhookSecret],
    ['WORKER_SECRET', i.workerSecret],
  ];
  for (let a = 0; a < purposes.length; a++) {
    for (let b = a + 1; b < purposes.length; b++) {
      if (purposes[a][1] !== undefined && purposes[a][1] === purposes[b][1]) problems.push(`${purposes[a][0]} and ${purposes[b][0]} must differ (one secret per purpose)`);
    }
  }
  if (i.tokenSecretPrevious !== undefined && (i.tokenSecretPrevious === i.webhookSecret || i.tokenSecretPrevious === i.workerSecret)) {
    problems.push('TOKEN_SECRET_PREVIOUS must differ from WEBHOOK_SECRET and WORKER_SECRET');
  }
  if (i.webhookUrl !== undefined && i.webhookSecret === undefined && !i.devCredentials) {
    problems.push('WEBHOOK_URL is set: set WEBHOOK_SECRET too (at least 16 random characters): the receiver verifies the signatures with it');
  }
  const derivedSecrets = given.filter(([name, v]) => v === undefined && name !== 'TOKEN_SECRET_PREVIOUS').map(([name]) => name);
  return {
    tokenSecret: i.tokenSecret ?? deriveSecret(i.apiSecret, SECRET_LABELS.token),
    ...(i.tokenSecretPrevious !== undefined ? { tokenSecretPrevious: i.tokenSecretPrevious } : {}),
    webhookSecret: i.webhookSecret ?? deriveSecret(i.apiSecret, SECRET_LABELS.webhook),
    workerSecret: i.workerSecret ?? deriveSecret(i.apiSecret, SECRET_LABELS.worker),
    derivedSecrets,
    problems,
  };
}
