/**
 * Livestream model shared by server and worker: the RTMP destination rules, stream-key masking, ids and the status
 * lifecycle. Pure. The unmasked URL is stored (the worker needs it) but only `maskUrl` output ever leaves the process.
 */
import { randomBytes } from 'node:crypto';
import { isPrivateHost, maskUrl, validateRtmpUrl, ValidationError } from '@app/core';

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
  /** Count of every write (see StatusRecordStore.update). Internal. */
  rev?: number;
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

export { MAX_RTMP_URL_LENGTH, maskUrl, redactRtmpUrl as redactUrl, validateRtmpUrl } from '@app/core';

/**
 * A livestream request's body. Its URL must not point at this host, a private network or the metadata service (400),
 * unless `allowPrivateHosts` (RTMP_ALLOW_PRIVATE=1: a receiver on the LAN, tests).
 */
export function validateLivestreamRequest(raw: unknown, o: { allowPrivateHosts?: boolean } = {}): { url: string } {
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValidationError('request body must be a JSON object {url}', 'bad_request');
  }
  const body = raw as Record<string, unknown>;
  const unknown = Object.keys(body).filter((k) => k !== 'url');
  if (unknown.length) throw new ValidationError(`unknown field(s): ${unknown.map((k) => k.slice(0, 32)).join(', ')}; allowed: url`);
  if (body.url === undefined) throw new ValidationError('url is required (rtmp://host/app/streamkey or rtmps://…)');
  const url = validateRtmpUrl(body.url);
  if (!o.allowPrivateHosts && isPrivateHost(new URL(url).hostname)) {
    throw new ValidationError('url must not point at this host, a private or link-local network (set RTMP_ALLOW_PRIVATE=1 to allow a receiver there)');
  }
  return { url };
}

/** Exponential backoff before attempt `failures + 1`: base, 2·base, 4·base … capped. */
export function livestreamBackoffMs(failures: number, baseMs: number, capMs = 30_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
}

export type LivestreamView = Omit<Livestream, 'stopRequested' | 'seq' | 'heartbeatAt' | 'runId' | 'rev'>;

/** Public JSON view: the URL masked, internal bookkeeping left out. */
export function livestreamView(l: Livestream): LivestreamView {
  const { stopRequested: _s, seq: _q, heartbeatAt: _h, runId: _r, rev: _v, ...rest } = l;
  return { ...rest, url: maskUrl(l.url) };
}
