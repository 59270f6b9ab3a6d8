import { ValidationError } from './errors';

/** RTMP destinations (pure): what may be handed to ffmpeg as an output, and how it is shown without its secrets. */
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
export function redactRtmpUrl(message: string, raw: string): string {
  let out = message.split(raw).join(maskUrl(raw));
  try {
    const segments = new URL(raw).pathname.split('/').filter(Boolean);
    for (const secret of segments.slice(1)) if (secret.length >= 4) out = out.split(secret).join('***');
  } catch {
    /* not a URL: nothing more to hide */
  }
  return out;
}
