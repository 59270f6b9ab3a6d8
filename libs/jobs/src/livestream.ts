import { randomBytes } from 'node:crypto';
import { ValidationError } from '@app/core';

/**
 * Livestream model shared by server and worker: the RTMP destination rules, stream-key masking, ids and the status
 * lifecycle. Pure. The unmasked URL is stored (the worker needs it) but only `maskUrl` output ever leaves the process.
 */
export type LivestreamStatus = 'queued' | 'connecting' | 'active' | 'reconnecting' | 'failed' | 'stopped';
export const LIVESTREAM_STATUSES: readonly LivestreamStatus[] = ['queued', 'connecting', 'active', 'reconnecting', 'failed', 'stopped'];

export interface Livestream {
  id: string;
  room: string;
  /** The destination as given (with its stream key). Never returned by the API, never logged: see livestreamView. */
  url: string;
  status: LivestreamStatus;
  createdAt: string;
  /** When the livestream was requested (the API contract names it startedAt). */
  startedAt: string;
  /** When the current connection to the destination started carrying media. */
  activeSince?: string;
  endedAt?: string;
  /** The last destination or ffmpeg error, stream key masked. */
  lastError?: string;
  /** Failed connection attempts in a row (reset once media flows); `failed` after LIVESTREAM_MAX_ATTEMPTS. */
  failedAttempts: number;
  /** How many times the stream was re-established after a drop. */
  reconnects: number;
  /** Number of status changes so far (listeners can order events by it). */
  seq: number;
  /** Set when a stop was asked for (DELETE, the room's deletion, worker shutdown). */
  stopRequested?: string;
  heartbeatAt?: number;
  /**
   * The worker run that owns the push. A job handed to a second worker while the first still pushes (its lock expired
   * in a long event-loop stall) gets a new run id; the first sees it and hangs up, so one stream key has one pusher.
   */
  runId?: string;
}

export const FINAL_LIVESTREAM_STATUSES: readonly LivestreamStatus[] = ['failed', 'stopped'];
export const isLivestreamFinal = (s: LivestreamStatus): boolean => FINAL_LIVESTREAM_STATUSES.includes(s);

/** queued → connecting → active ⇄ reconnecting; failed or stopped from anywhere not final. */
const NEXT: Record<LivestreamStatus, LivestreamStatus[]> = {
  queued: ['connecting', 'failed', 'stopped'],
  connecting: ['active', 'reconnecting', 'failed', 'stopped'],
  active: ['reconnecting', 'failed', 'stopped'],
  reconnecting: ['active', 'failed', 'stopped'],
  failed: [],
  stopped: [],
};
export const canLivestreamTransition = (from: LivestreamStatus, to: LivestreamStatus): boolean => NEXT[from].includes(to);

export const LIVESTREAM_ID_RE = /^ls_[a-z0-9]{16}$/;
export const newLivestreamId = (): string => `ls_${randomBytes(10).toString('hex').slice(0, 16)}`;

export const MAX_RTMP_URL_LENGTH = 1024;

/**
 * An RTMP(S) destination that is safe to hand to ffmpeg as its output argument: only `rtmp://` and `rtmps://` with a
 * host and an application path, nothing ffmpeg could read as another protocol (`file:`, `concat:`, `subfile:`, `pipe:`),
 * an option (`-i …`), a second output (`|`, `tee`), or librtmp-style ` key=value` options (no whitespace at all).
 * Returns the URL unchanged; throws ValidationError (400) with a reason otherwise.
 */
export function validateRtmpUrl(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new ValidationError('url must be a non-empty string');
  if (raw.length > MAX_RTMP_URL_LENGTH) throw new ValidationError(`url must be at most ${MAX_RTMP_URL_LENGTH} characters`);
  if (/[\s\u0000-\u001f\u007f-\u009f]/.test(raw)) throw new ValidationError('url must not contain whitespace or control characters');
  if (/["'`|\\<>^{}]/.test(raw)) throw new ValidationError('url must not contain quotes, |, \\, <, >, ^, { or }');
  if (!/^rtmps?:\/\//.test(raw)) throw new ValidationError('url must start with rtmp:// or rtmps://');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ValidationError('url is not a valid URL');
  }
  if (u.protocol !== 'rtmp:' && u.protocol !== 'rtmps:') throw new ValidationError('url must start with rtmp:// or rtmps://');
  if (!u.hostname || !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.test(u.hostname)) throw new ValidationError('url must name a host');
  if (u.hash) throw new ValidationError('url must not have a #fragment');
  if (u.pathname.split('/').filter(Boolean).length === 0) throw new ValidationError('url must include the application path (rtmp://host/app/streamkey)');
  return raw;
}

/**
 * The URL with its secrets hidden: the path after the application name (the stream key), every query value and any
 * userinfo password become `***`. `rtmp://u:pw@host/live2/abcd-efgh?k=v` → `rtmp://u:***@host/live2/***?k=***`.
 */
export function maskUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return '***';
  }
  const user = u.username ? `${u.username}${u.password ? ':***' : ''}@` : '';
  const segments = u.pathname.split('/').filter(Boolean);
  const path = segments.length === 0 ? '' : `/${segments[0]}${segments.length > 1 ? '/***' : ''}`;
  const query = u.search
    ? `?${u.search
        .slice(1)
        .split('&')
        .map((kv) => (kv.includes('=') ? `${kv.slice(0, kv.indexOf('='))}=***` : kv))
        .join('&')}`
    : '';
  return `${u.protocol}//${user}${u.host}${path}${query}`;
}

/** Replaces every occurrence of the raw URL (and of its stream key) in a message (ffmpeg prints its output URL). */
export function redactUrl(message: string, raw: string): string {
  let out = message.split(raw).join(maskUrl(raw));
  try {
    const segments = new URL(raw).pathname.split('/').filter(Boolean);
    for (const secret of segments.slice(1)) if (secret.length >= 4) out = out.split(secret).join('***');
  } catch {
    /* not a URL: nothing more to hide */
  }
  return out;
}

export function validateLivestreamRequest(raw: unknown): { url: string } {
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValidationError('request body must be a JSON object {url}', 'bad_request');
  }
  const body = raw as Record<string, unknown>;
  const unknown = Object.keys(body).filter((k) => k !== 'url');
  if (unknown.length) throw new ValidationError(`unknown field(s): ${unknown.map((k) => k.slice(0, 32)).join(', ')}; allowed: url`);
  if (body.url === undefined) throw new ValidationError('url is required (rtmp://host/app/streamkey or rtmps://…)');
  return { url: validateRtmpUrl(body.url) };
}

/** Exponential backoff before attempt `failures + 1`: base, 2·base, 4·base … capped. */
export function livestreamBackoffMs(failures: number, baseMs: number, capMs = 30_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
}

export type LivestreamView = Omit<Livestream, 'stopRequested' | 'seq' | 'heartbeatAt' | 'runId'>;

/** Public JSON view: the URL masked, internal bookkeeping left out. */
export function livestreamView(l: Livestream): LivestreamView {
  const { stopRequested: _s, seq: _q, heartbeatAt: _h, runId: _r, ...rest } = l;
  return { ...rest, url: maskUrl(l.url) };
}
