/**
 * Checks of records read back from Redis (pure). Redis is not trusted to hold only what the stores wrote: a field that
 * reaches a file path (a recording's id, format and part files) or a process (a livestream's URL, given to ffmpeg) is
 * checked when read, and a record that fails is ignored by the stores (logged, never joined into a path).
 * Each returns the first problem found, or undefined when the record is sound.
 */
import { ROOM_NAME_RE, validateRtmpUrl } from '@app/core';
import { LIVESTREAM_ID_RE, LIVESTREAM_STATUSES } from './livestream';
import { RECORDING_FORMATS, RECORDING_ID_RE, RECORDING_STATUSES, recordingFileName, thumbnailUrlOf } from './recording';
import { recordingPartFileName } from './recording-parts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown, min = 0) => Number.isInteger(v) && (v as number) >= min;
const optString = (o: Obj, k: string, max = 4096) => o[k] === undefined || (typeof o[k] === 'string' && (o[k] as string).length <= max);
const optNumber = (o: Obj, k: string) => o[k] === undefined || (typeof o[k] === 'number' && Number.isFinite(o[k]));
const isTime = (v: unknown) => typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v));

/** What every status record has: room, created time, seq, the write count and the owner token. */
function commonProblem(o: Obj): string | undefined {
  if (typeof o.room !== 'string' || !ROOM_NAME_RE.test(o.room)) return 'room is not a room name';
  if (!isTime(o.createdAt)) return 'createdAt is not a time';
  if (!isCount(o.seq, 1)) return 'seq is not a positive integer';
  if (o.rev !== undefined && !isCount(o.rev)) return 'rev is not a count';
  if (!optString(o, 'runId', 100) || !optString(o, 'stopRequested') || !optNumber(o, 'heartbeatAt')) return 'runId, stopRequested or heartbeatAt has the wrong type';
  return undefined;
}

export function recordingRecordProblem(v: unknown): string | undefined {
  if (!isObj(v)) return 'not a JSON object';
  if (typeof v.id !== 'string' || !RECORDING_ID_RE.test(v.id)) return 'id is not a recording id';
  if (typeof v.format !== 'string' || !(RECORDING_FORMATS as readonly string[]).includes(v.format)) return 'format is not one of the recording formats';
  if (typeof v.audioOnly !== 'boolean') return 'audioOnly is not a boolean';
  if (typeof v.status !== 'string' || !(RECORDING_STATUSES as readonly string[]).includes(v.status)) return 'status is not a recording status';
  if (typeof v.name !== 'string' || v.name.length > 200 || /[\u0000-\u001f\u007f]/.test(v.name)) return 'name is not a printable string';
  const common = commonProblem(v);
  if (common) return common;
  if (v.thumbnailUrl !== undefined && v.thumbnailUrl !== thumbnailUrlOf(v.id)) return 'thumbnailUrl is not its own';
  if (!optString(v, 'error') || !optString(v, 'warning') || !optNumber(v, 'durationSeconds') || !optNumber(v, 'sizeBytes')) return 'error, warning, durationSeconds or sizeBytes has the wrong type';
  if (v.parts !== undefined) {
    if (!Array.isArray(v.parts) || v.parts.length > 10_000) return 'parts is not a list';
    const own = recordingFileName(v.id, v.format as (typeof RECORDING_FORMATS)[number]);
    for (const p of v.parts as unknown[]) {
      if (!isObj(p) || !isCount(p.index, 1) || !isTime(p.startedAt)) return 'a part is not {index, fileName, startedAt}';
      // a part's file is the recording's own (part 1 until it is renamed) or its part name: nothing else, ever
      const named = recordingPartFileName(v.id, v.format as (typeof RECORDING_FORMATS)[number], p.index as number);
      if (p.fileName !== own && p.fileName !== named) return `part ${p.index as number}'s file is not one of this recording's names`;
    }
  }
  return undefined;
}

export function livestreamRecordProblem(v: unknown): string | undefined {
  if (!isObj(v)) return 'not a JSON object';
  if (typeof v.id !== 'string' || !LIVESTREAM_ID_RE.test(v.id)) return 'id is not a livestream id';
  if (typeof v.status !== 'string' || !(LIVESTREAM_STATUSES as readonly string[]).includes(v.status)) return 'status is not a livestream status';
  try {
    validateRtmpUrl(v.url);
  } catch {
    return 'url is not an rtmp:// or rtmps:// destination';
  }
  if (!isCount(v.failedAttempts)) return 'failedAttempts is not a count';
  if (!isCount(v.reconnects)) return 'reconnects is not a count';
  if (!isTime(v.startedAt)) return 'startedAt is not a time';
  return commonProblem(v);
}
