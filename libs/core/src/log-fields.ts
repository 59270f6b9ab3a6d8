/** Ids a structured log line carries as fields, found in the human-readable message the code already writes. */
export interface LogIds {
  room?: string;
  recordingId?: string;
  participantId?: string;
  identity?: string;
  jobId?: string;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const NAME = '([A-Za-z0-9][A-Za-z0-9_.-]{0,63})';
// Only the shapes the code writes a room name in: a "[… room X]" tag, room "X", "of room X", "room X created|closed|
// updated", and API paths. Plain prose ("room not found", "the room for 10 s") names no room.
const PATTERNS: Array<[keyof LogIds, RegExp]> = [
  ['room', new RegExp(`\\[[^\\]]*\\broom ${NAME}\\]`)],
  ['room', new RegExp(`\\broom "${NAME}"`)],
  ['room', new RegExp(`\\bof room ${NAME}\\b`)],
  ['room', new RegExp(`\\broom ${NAME} (?:created|closed|updated)\\b`)],
  ['room', new RegExp(`/v1/rooms/${NAME}\\b`)],
  ['recordingId', /\b(rec_[a-z0-9]{16})\b/],
  ['participantId', new RegExp(`\\b(?:publisher|subscriber|decoder|whip|whep)[ /](${UUID})\\b`)],
  ['identity', new RegExp(`\\b(?:publisher|subscriber) ${UUID} \\(([^)\\s]+)\\)`)],
  // job ids have digits, "_" or ":" (rec_…, ls_…, 42, rec_…-3); "job failed" names none
  ['jobId', /\bjob ((?=[\w:-]*[\d_:])[\w:-]+)/],
];

/** Pure: `[room demo] publisher 1b…(alice) disconnected` → {room: 'demo', participantId: '1b…', identity: 'alice'}. */
export function idsInMessage(message: string): LogIds {
  const out: LogIds = {};
  for (const [key, re] of PATTERNS) {
    if (out[key] !== undefined) continue;
    const m = re.exec(message);
    if (m) out[key] = m[1];
  }
  return out;
}
