/** Frames a client may send. */
export type ClientFrame =
  | { type: 'auth'; token: string }
  | { type: 'ping'; id?: string | number }
  /** A publisher says it muted/unmuted its microphone (`audio`) or camera (`video`). */
  | { type: 'mute'; audio?: boolean; video?: boolean };

export const MAX_CLIENT_FRAME_BYTES = 4096;
/** Outbound bytes a client may leave unread before it is disconnected (a slow client cannot grow our memory). */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; code: string; message: string };

/** Parses one client frame; every problem is an error frame for that client, never a crash or a closed neighbour. */
export function parseClientFrame(data: Buffer | string, isBinary: boolean, maxBytes = MAX_CLIENT_FRAME_BYTES): ParsedFrame {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (size > maxBytes) return { ok: false, code: 'payload_too_large', message: `frames are limited to ${maxBytes} bytes (got ${size})` };
  if (isBinary) return { ok: false, code: 'bad_request', message: 'binary frames are not accepted; send JSON text' };
  let msg: unknown;
  try {
    msg = JSON.parse(data.toString());
  } catch {
    return { ok: false, code: 'bad_request', message: 'frames must be JSON objects like {"type":"ping"}' };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return { ok: false, code: 'bad_request', message: 'frames must be JSON objects' };
  const m = msg as Record<string, unknown>;
  if (m.type === 'ping') {
    const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : undefined;
    return { ok: true, frame: { type: 'ping', ...(id !== undefined ? { id } : {}) } };
  }
  if (m.type === 'auth') {
    if (typeof m.token !== 'string' || !m.token) return { ok: false, code: 'bad_request', message: 'auth needs a "token" string' };
    return { ok: true, frame: { type: 'auth', token: m.token } };
  }
  if (m.type === 'mute') {
    const flag = (v: unknown) => v === undefined || typeof v === 'boolean';
    if (!flag(m.audio) || !flag(m.video) || (m.audio === undefined && m.video === undefined)) {
      return { ok: false, code: 'bad_request', message: 'mute needs "audio" and/or "video" booleans' };
    }
    return { ok: true, frame: { type: 'mute', ...(m.audio !== undefined ? { audio: m.audio as boolean } : {}), ...(m.video !== undefined ? { video: m.video as boolean } : {}) } };
  }
  return { ok: false, code: 'unknown_type', message: `unknown frame type ${JSON.stringify(String(m.type ?? '')).slice(0, 40)}; accepted: auth, ping, mute` };
}

/** The slice of a ws socket the sender needs (a fake in unit tests). */
export interface SendSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

const OPEN = 1;

/**
 * Sends to one client unless it has fallen behind by more than `maxBuffered` bytes: then it is told why (close code
 * 4008), cut off after a grace second if it still does not read, and `onSlow` logs it. Other clients are unaffected.
 */
export class EventSender {
  private dropped = false;

  constructor(
    private readonly socket: SendSocket,
    private readonly onSlow: (bufferedBytes: number) => void,
    private readonly maxBuffered = MAX_BUFFERED_BYTES,
  ) {}

  get isDropped(): boolean {
    return this.dropped;
  }

  send(json: string): boolean {
    if (this.dropped || this.socket.readyState !== OPEN) return false;
    const buffered = this.socket.bufferedAmount;
    if (buffered + json.length > this.maxBuffered) {
      this.dropped = true;
      this.onSlow(buffered);
      this.socket.close(4008, 'too slow: events were not read in time');
      setTimeout(() => this.socket.terminate(), 1000).unref();
      return false;
    }
    this.socket.send(json);
    return true;
  }
}
