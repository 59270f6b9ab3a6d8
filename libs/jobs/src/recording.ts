/** Recording model shared by server and worker: formats, the status lifecycle, ids, files. Pure. */
import { randomBytes } from 'node:crypto';
import { ValidationError } from '@app/core';
import { RECORDING_FORMATS, type RecordingFormat } from '@app/media';

export { RECORDING_FORMATS, type RecordingFormat };

export type RecordingStatus = 'queued' | 'starting' | 'active' | 'stopping' | 'finishing' | 'ready' | 'failed';
export const RECORDING_STATUSES: readonly RecordingStatus[] = ['queued', 'starting', 'active', 'stopping', 'finishing', 'ready', 'failed'];

/** One file of a recording (see recording-parts.ts). */
export interface RecordingPart {
  /** 1, 2, … in recording order; GET /v1/recordings/{id}/parts/{index} downloads it. */
  index: number;
  /** Its file in RECORDINGS_DIR (server-generated: `<id>.<ext>` while it is the only part, then `<id>.part<n>.<ext>`). */
  fileName: string;
  startedAt: string;
  /** Absent while this part is being written. */
  endedAt?: string;
  durationSeconds?: number;
  sizeBytes?: number;
}


export interface Recording {
  id: string;
  room: string;
  name: string;
  format: RecordingFormat;
  audioOnly: boolean;
  status: RecordingStatus;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  sizeBytes?: number;
  error?: string;
  /** Number of status changes so far; webhook events carry it so receivers can order them. */
  seq: number;
  /** Count of every write (see StatusRecordStore.update). Internal. */
  rev?: number;
  /**
   * The worker run that owns the recording (a random token set when it starts). A run that finds another token here, or
   * the record final, no longer owns it: it stops writing at once (its file kept as written) and writes nothing more.
   */
  runId?: string;
  /** Set when a stop was asked for (by the API, the room emptying or its deletion). */
  stopRequested?: string;
  /** Last sign of life from the worker (ms since epoch); the server fails recordings whose worker went silent. */
  heartbeatAt?: number;
  /**
   * The files it was recorded in, in order: one, unless the room's stream was lost and the worker reconnected (then the
   * parts are stitched into the recording's file when it ends). Set once recording starts.
   */
  parts?: RecordingPart[];
  /**
   * A `ready` recording whose parts could not be stitched, or whose file could not be finished (rewritten with its index
   * at the front), says why here; its files are kept as they were recorded (playable).
   */
  warning?: string;
  /** Where its thumbnail (a JPEG of a frame 1 s in) is served, once it has one: `/v1/recordings/{id}/thumbnail`. */
  thumbnailUrl?: string;
}

export const FINAL_STATUSES: readonly RecordingStatus[] = ['ready', 'failed'];
export const isFinal = (s: RecordingStatus): boolean => FINAL_STATUSES.includes(s);

/**
 * Allowed transitions: queued → starting → active → stopping → finishing → ready, and failed from anywhere not final.
 * `finishing`: the recording has ended and its file is being stitched or rewritten with its index at the front.
 */
const NEXT: Record<RecordingStatus, RecordingStatus[]> = {
  queued: ['starting', 'stopping', 'failed', 'ready'],
  starting: ['active', 'stopping', 'failed'],
  active: ['stopping', 'failed'],
  stopping: ['finishing', 'ready', 'failed'],
  finishing: ['ready', 'failed'],
  ready: [],
  failed: [],
};
export const canTransition = (from: RecordingStatus, to: RecordingStatus): boolean => NEXT[from].includes(to);

export const RECORDING_ID_RE = /^rec_[a-z0-9]{16}$/;
export const newRecordingId = (): string => `rec_${randomBytes(10).toString('hex').slice(0, 16)}`;

export function validateRecordingRequest(raw: unknown): { format: RecordingFormat; audioOnly: boolean; name?: string } {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('request body must be a JSON object', 'bad_request');
  const body = raw as Record<string, unknown>;
  const unknown = Object.keys(body).filter((k) => !['format', 'audioOnly', 'name'].includes(k));
  if (unknown.length) throw new ValidationError(`unknown field(s): ${unknown.join(', ')}; allowed: format, audioOnly, name`);
  const format = body.format ?? 'mp4';
  if (typeof format !== 'string' || !RECORDING_FORMATS.includes(format as RecordingFormat)) {
    throw new ValidationError(`format must be one of: ${RECORDING_FORMATS.join(', ')}`);
  }
  if (body.audioOnly !== undefined && typeof body.audioOnly !== 'boolean') throw new ValidationError('audioOnly must be true or false');
  let name: string | undefined;
  if (body.name !== undefined) {
    if (typeof body.name !== 'string' || body.name.length > 128 || /[\u0000-\u001f\u007f]/.test(body.name)) {
      throw new ValidationError('name must be a string of at most 128 printable characters');
    }
    name = body.name;
  }
  return { format: format as RecordingFormat, audioOnly: body.audioOnly === true, ...(name !== undefined ? { name } : {}) };
}

/** The file name of a recording: derived from the server-generated id only, never from anything a client sent. */
export function recordingFileName(id: string, format: RecordingFormat): string {
  if (!RECORDING_ID_RE.test(id)) throw new ValidationError('invalid recording id');
  return `${id}.${format}`;
}

/** Where a recording's file is written while it is being finished (then renamed over the recording's file). */
export function finishingFileName(id: string, format: RecordingFormat): string {
  return recordingFileName(id, format).replace(/\.([a-z0-9]+)$/, '.finishing.$1');
}

/** The recording's thumbnail beside its file: derived from the id only, like recordingFileName. */
export function thumbnailFileName(id: string): string {
  if (!RECORDING_ID_RE.test(id)) throw new ValidationError('invalid recording id');
  return `${id}.jpg`;
}

export const thumbnailUrlOf = (id: string): string => `/v1/recordings/${id}/thumbnail`;

export function contentTypeFor(format: RecordingFormat, audioOnly: boolean): string {
  switch (format) {
    case 'mp4':
      return audioOnly ? 'audio/mp4' : 'video/mp4';
    case 'webm':
      return audioOnly ? 'audio/webm' : 'video/webm';
    case 'mkv':
      return audioOnly ? 'audio/x-matroska' : 'video/x-matroska';
  }
}

/**
 * Why the run `runId` no longer owns the recording `cur` (so it must stop writing), or undefined while it does: the
 * record is final (someone else ended it: the sweep after a silent heartbeat, another worker) or names another run.
 */
export function recordingOwnershipLost(cur: Pick<Recording, 'status' | 'runId' | 'error'>, runId: string): string | undefined {
  if (isFinal(cur.status)) return `the recording is already ${cur.status}${cur.error ? ` (${cur.error.slice(0, 200)})` : ''}`;
  if (cur.runId !== runId) return 'another worker run owns the recording now';
  return undefined;
}

/** Public JSON view (internal bookkeeping stays out). */
export function recordingView(r: Recording): Omit<Recording, 'stopRequested' | 'seq' | 'heartbeatAt' | 'rev' | 'runId'> {
  const { stopRequested: _s, seq: _q, heartbeatAt: _h, rev: _v, runId: _r, ...rest } = r;
  return rest;
}
