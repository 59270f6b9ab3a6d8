// Shared by the pages of the web client (participant, host, viewer): plain words for errors, API requests, WHIP/WHEP
// negotiation, the room's events WebSocket with reconnects, and small DOM helpers. Public API only.

export const $ = (id) => document.getElementById(id);

/** Creates an element: el('li', {className: 'x', 'aria-label': 'y'}, 'text', child…). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k in e && typeof v !== 'string') e[k] = v;
    else if (k === 'className' || k === 'textContent' || k === 'href' || k === 'src') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return e;
}

/**
 * An error whose message is meant for people; `retry`: worth trying again (network, 5xx, 503); `retryAfterMs`: when
 * (the server's Retry-After; a second while the server cannot be reached at all); `status`: HTTP.
 */
export class FriendlyError extends Error {
  constructor(message, { retry = false, retryAfterMs = 0, status = 0, code = '' } = {}) {
    super(message);
    Object.assign(this, { retry, retryAfterMs, status, code });
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits before reconnect attempt n (0, 1, …): 0.5 s growing to at most 5 s, ±20 % so that a room does not retry in
 * step; `e.retryAfterMs` (the server said when, or it cannot be reached at all) instead when given.
 */
export const backoffMs = (attempt, e) => (e?.retryAfterMs || Math.min(5000, 500 * 1.6 ** attempt)) * (0.8 + Math.random() * 0.4);

/** Turns an HTTP error from the API into words a person understands. */
export async function apiError(res, what) {
  let code = '';
  let message = '';
  try {
    const body = await res.json();
    code = body?.error?.code ?? '';
    message = body?.error?.message ?? '';
  } catch {
    /* not JSON */
  }
  const s = res.status;
  const opts = { status: s, code };
  if (s === 401 && code === 'token_expired') return new FriendlyError('This link has expired. Ask for a new one.', opts);
  if (s === 401) return new FriendlyError('This link is not valid for this server. Ask for a new one.', opts);
  if (s === 403) return new FriendlyError(`You are not allowed to ${what} in this meeting.`, opts);
  if (s === 404) return new FriendlyError('This meeting does not exist (any more): it has ended.', opts);
  if (s === 409 && /full/i.test(message)) return new FriendlyError('This meeting is full. Try again later, or join with "Watch only".', { ...opts, retry: true });
  if (s === 409) return new FriendlyError(`The server could not ${what} just now: ${message}`, { ...opts, retry: true });
  if (s === 400 && code === 'codec_unsupported') return new FriendlyError('Your browser cannot send or play the video format this meeting uses.', opts);
  if (s === 503 && code === 'shutting_down') return new FriendlyError('The server is restarting. Trying again…', { ...opts, retry: true });
  if (s === 503) {
    const after = Number(res.headers.get('retry-after')) || 0;
    const wait = after ? ` Try again in ${after} s.` : ' Try again in a minute.';
    return new FriendlyError(`The server is busy (the meeting or the server is full).${wait}`, { ...opts, retry: true, retryAfterMs: after * 1000 });
  }
  if (s >= 500) return new FriendlyError(`The server had a problem and could not ${what} (${s}).`, { ...opts, retry: true });
  return new FriendlyError(`The server could not ${what} (${s}${message ? `: ${message}` : ''}).`, opts);
}

/** fetch() with errors in plain words; a network failure is a FriendlyError with `retry`. */
export async function request(url, init, what) {
  let res;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(15_000), ...init });
  } catch {
    // nothing answers (a restart, a network change): trying every second costs nobody anything
    throw new FriendlyError('The server is unreachable. Check your connection.', { retry: true, retryAfterMs: 1000 });
  }
  if (!res.ok) throw await apiError(res, what);
  return res;
}

export const bearer = (token) => ({ authorization: `Bearer ${token}` });
export const jsonHeaders = (token) => ({ 'content-type': 'application/json', ...(token ? bearer(token) : {}) });

/** Camera, microphone and screen errors in plain words. */
export function mediaError(e, what = 'camera or microphone') {
  if (e instanceof FriendlyError) return e;
  if (e?.name === 'NotAllowedError' || e?.name === 'SecurityError') {
    return new FriendlyError(`Access to your ${what} was refused. Allow it in your browser (the icon in the address bar) and try again.`);
  }
  if (e?.name === 'NotFoundError' || e?.name === 'OverconstrainedError') return new FriendlyError(`No ${what} was found. Connect one, choose another, or join with "Watch only".`);
  if (e?.name === 'NotReadableError' || e?.name === 'AbortError') return new FriendlyError(`Your ${what} is busy: another application is using it. Close it and try again.`);
  return new FriendlyError(`Could not start your ${what} (${e?.name ?? e}).`);
}

/** What a token says about itself (room, identity, name, grants, expiry). Not verified: for display only. */
export function tokenClaims(token) {
  try {
    const json = atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(decodeURIComponent(escape(json)));
  } catch {
    return null;
  }
}

/** `#token=…` / `#invite=…` of the page's address. */
export const fromHash = (name) => new URLSearchParams(location.hash.slice(1)).get(name) || '';

function waitForIce(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, 2000); // host candidates are enough on most networks; do not wait forever for STUN
  });
}

/** WHIP/WHEP: POST the offer, apply the answer; returns the session URL (for DELETE). */
export async function negotiate(pc, endpoint, token, what) {
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIce(pc);
  // The token goes in the query, not in an Authorization header: when the room runs on another node of the cluster the
  // server answers 307 to it, and browsers drop Authorization on a redirect to another origin (the query is kept).
  const url = new URL(endpoint, location.href);
  url.searchParams.set('token', token);
  const res = await request(url.toString(), { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp }, what);
  const resourceUrl = new URL(res.headers.get('location'), res.url || url).toString(); // on the node that answered
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return resourceUrl;
}

/** Ends a WHIP/WHEP session (best effort: the server also notices a lost connection). */
export function endSession(session, token, { keepalive = false } = {}) {
  session?.pc?.close();
  if (!session?.url) return Promise.resolve();
  return fetch(session.url, { method: 'DELETE', headers: bearer(token), keepalive, signal: AbortSignal.timeout(3000) }).catch(() => undefined);
}

/** Why the events socket was closed, in words (close codes of GET /v1/rooms/{name}/events). */
export function closeReason(code, reason = '') {
  if (code === 4401) return /expired/i.test(reason) ? 'This link has expired. Ask for a new one.' : 'This link is not valid for this server. Ask for a new one.';
  if (code === 4403) return 'This link is for another meeting.';
  if (code === 4404 || code === 4410) return 'The meeting has ended.';
  return '';
}

/**
 * The room's events WebSocket (`/v1/rooms/{name}/events`): authenticates with the token, hands every event to
 * `onEvent` (a `snapshot` first), reconnects with backoff when the connection drops — unless `reconnect` is false or
 * the close says the token or the room is no good (`onFatal`). `onState('open' | 'lost', info)` tells the page.
 */
export class RoomEvents {
  constructor(room, token, { onEvent, onState = () => undefined, onFatal = () => undefined, reconnect = true }) {
    Object.assign(this, { room, token, onEvent, onState, onFatal, reconnect, closed: false, attempt: 0, ws: null });
    this.open();
  }

  open() {
    const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/v1/rooms/${encodeURIComponent(this.room)}/events`);
    this.ws = ws;
    ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'auth', token: this.token })));
    ws.addEventListener('message', (m) => {
      const e = JSON.parse(m.data);
      if (e.type === 'snapshot') {
        this.attempt = 0;
        this.onState('open');
      }
      this.onEvent(e);
    });
    ws.addEventListener('close', (c) => {
      if (this.closed || ws !== this.ws) return;
      const fatal = closeReason(c.code, c.reason);
      if (fatal) {
        this.closed = true;
        return this.onFatal(fatal, c.code);
      }
      this.onState('lost', { code: c.code });
      if (!this.reconnect) return;
      setTimeout(() => !this.closed && this.open(), backoffMs(this.attempt++));
    });
  }

  /** Sends a frame now if the socket is open (`{"type":"mute", …}`); returns whether it went. */
  send(frame) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Resolves with the first snapshot; rejects if the socket is lost or refused first, or after `ms`. */
  ready(ms = 6000) {
    return new Promise((resolve, reject) => {
      const { onState, onFatal } = this;
      const done = (fn, v) => {
        clearTimeout(t);
        Object.assign(this, { onState, onFatal });
        fn(v);
      };
      const t = setTimeout(() => done(reject, new FriendlyError('The meeting did not answer in time.', { retry: true })), ms);
      this.onState = (s) => (s === 'open' ? done(resolve) : done(reject, new FriendlyError('The connection to the meeting was lost.', { retry: true })));
      this.onFatal = (message) => done(reject, new FriendlyError(message));
    });
  }

  close() {
    this.closed = true;
    this.ws?.close(1000, 'bye');
  }
}

/** Status line of a page (`#status`, role=status). */
export function setStatus(text, kind = '') {
  const s = $('status');
  s.textContent = text;
  s.className = `status ${kind}`;
}

/** The page's error box (`#error`, role=alert); '' hides it. */
export function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

/** Copies text (the Clipboard API, or selecting the field as a fallback) and says so on the button for a moment. */
export async function copyText(text, button, field) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    if (field) {
      field.select();
      ok = document.execCommand('copy');
    }
  }
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  button.textContent = ok ? 'Copied' : 'Select and copy the link';
  setTimeout(() => (button.textContent = label), 2000);
  return ok;
}

export const formatDuration = (s) => {
  const t = Math.round(s ?? 0);
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
};
export const formatBytes = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round((n ?? 0) / 1e3))} kB`);
