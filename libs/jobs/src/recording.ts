import { randomBytes } from 'node:crypto';
import { ValidationError } from '@app/core';

/** Recording model shared by server and worker: formats, the status lifecycle, ids, files. Pure. */
export const RECORDING_FORMATS = ['mp4', 'webm', 'mkv'] as const;
export type RecordingFormat = (typeof RECORDING_FORMATS)[number];

export type RecordingStatus = 'queued' | 'starting' | 'active' | 'stopping' | 'ready' | 'failed';

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
  /** Set when a stop was asked for (by the API, the room emptying or its deletion). */
  stopRequested?: string;
  /** Last sign of life from the worker (ms since epoch); the server fails recordings whose worker went silent. */
  heartbeatAt?: number;
}

export const FINAL_STATUSES: readonly RecordingStatus[] = ['ready', 'failed'];
export const isFinal = (s: RecordingStatus): boolean => FINAL_STATUSES.includes(s);

/** Allowed transitions: queued → starting → active → stopping → ready, and failed from anywhere not final. */
const NEXT: Record<RecordingStatus, RecordingStatus[]> = {
  queued: ['starting', 'stopping', 'failed', 'ready'],
  starting: ['active', 'stopping', 'failed'],
  active: ['stopping', 'failed'],
  stopping: ['ready', 'failed'],
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

/** Public JSON view (internal bookkeeping stays out). */
export function recordingView(r: Recording): Omit<Recording, 'stopRequested' | 'seq' | 'heartbeatAt'> {
  const { stopRequested: _s, seq: _q, heartbeatAt: _h, ...rest } = r;
  return rest;
}
