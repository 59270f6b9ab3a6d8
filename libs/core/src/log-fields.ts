/** Ids a structured log line carries as fields, found in the human-readable message the code already writes. */
export interface LogIds {
  room?: string;
  recordingId?: string;
  participantId?: string;
  identity?: string;
  jobId?: string;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const PATTERNS: Array<[keyof LogIds, RegExp]> = [
  ['room', /\broom[ "]+([A-Za-z0-9][A-Za-z0-9_.-]{0,63})\b/],
  ['room', /\/v1\/rooms\/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})\b/],
  ['recordingId', /\b(rec_[a-z0-9]{16})\b/],
  ['participantId', new RegExp(`\\b(?:publisher|subscriber|decoder|whip|whep)[ /](${UUID})\\b`)],
  ['identity', new RegExp(`\\b(?:publisher|subscriber) ${UUID} \\(([^)\\s]+)\\)`)],
  ['jobId', /\bjob ([\w:-]+)/],
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
