import { isIPv4 } from 'node:net';

/**
 * Where the published dev credentials (and the unauthenticated dev token endpoint that comes with them) may be used:
 * only on a server that listens on loopback, or where the operator says so with MCU_DEV=1, and never with
 * NODE_ENV=production. Everywhere else the server refuses to start and says what to set.
 */
export const DEV_API_KEY = 'devkey';
export const DEV_API_SECRET = 'devsecret-change-me';
/** The secrets this project publishes (the dev secret, docker/.env.example's placeholders) all say "change-me". */
export const isPublishedSecret = (secret: string): boolean => /change-?me/i.test(secret);

/** 127.0.0.0/8, ::1 (also bracketed or IPv4-mapped) and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIPv4(v4) && v4.startsWith('127.');
}

export interface CredentialsInput {
  apiKey?: string;
  apiSecret?: string;
  turnSecret?: string;
  /** REDIS_URL as set: its password must not be docker/.env.example's placeholder either. */
  redisUrl?: string;
  /** HOST as set (undefined: not set). */
  host?: string;
  /** MCU_DEV=1 */
  dev: boolean;
  /** NODE_ENV=production */
  production: boolean;
}

export interface CredentialsDecision {
  apiKey: string;
  apiSecret: string;
  devCredentials: boolean;
  /** HOST, or its default: loopback on dev credentials, all interfaces with real ones. */
  host: string;
  /** Published placeholders ("change-me") are acceptable here: loopback or MCU_DEV=1, never NODE_ENV=production. */
  devAllowed: boolean;
  problems: string[];
}

/** The password of a redis:// or rediss:// URL, decoded ('' when none or unparsable). */
export function redisPassword(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}

export function decideCredentials(i: CredentialsInput): CredentialsDecision {
  const problems: string[] = [];
  const devCredentials = i.apiKey === undefined || i.apiSecret === undefined;
  const host = i.host ?? (devCredentials ? '127.0.0.1' : '0.0.0.0');
  // what may run on published secrets: a development server that only this machine reaches, or one the operator marks
  const devAllowed = !i.production && (i.dev || isLoopbackHost(host));
  const where = i.production ? 'with NODE_ENV=production' : `on HOST=${host} (reachable from the network)`;
  if ((i.apiKey === undefined) !== (i.apiSecret === undefined)) problems.push('set both MCU_API_KEY and MCU_API_SECRET, or neither');
  else if (devCredentials && !devAllowed) {
    problems.push(
      `MCU_API_KEY and MCU_API_SECRET are not set, and the dev credentials used instead are published: refused ${where}. ` +
        'Set both (MCU_API_SECRET: at least 16 random characters, e.g. `openssl rand -hex 32`)' +
        (i.production ? '' : ', or listen on loopback only (HOST=127.0.0.1), or set MCU_DEV=1 to accept the dev credentials on this address'),
    );
  }
  if (i.apiSecret !== undefined && i.apiSecret.length < 16) problems.push('MCU_API_SECRET must be at least 16 characters');
  if (i.apiSecret !== undefined && isPublishedSecret(i.apiSecret) && !devAllowed) {
    problems.push(`MCU_API_SECRET is a published placeholder ("…change-me…"), refused ${where}: set a long random value (e.g. \`openssl rand -hex 32\`)`);
  }
  if (i.turnSecret !== undefined && isPublishedSecret(i.turnSecret) && !devAllowed) {
    problems.push(`TURN_SECRET is a published placeholder ("…change-me…"), refused ${where}: set a long random value (the same in coturn)`);
  }
  if (i.redisUrl !== undefined && isPublishedSecret(redisPassword(i.redisUrl)) && !devAllowed) {
    problems.push(`REDIS_URL has a published placeholder password ("…change-me…"), refused ${where}: set REDIS_PASSWORD (compose) to a long random value`);
  }
  return { apiKey: i.apiKey ?? DEV_API_KEY, apiSecret: i.apiSecret ?? DEV_API_SECRET, devCredentials, host, devAllowed, problems };
}
