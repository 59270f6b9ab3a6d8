// werift-mcu web client: publish camera + microphone over WHIP, watch the room's mix over WHEP.
// Plain browser JavaScript, no dependencies. Tokens come from `#token=…` in the URL (issued by your app through the
// admin API) or, on a development server only, from the dev token endpoint.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { room: '', token: '', iceServers: [], publish: null, subscribe: null, stream: null, leaving: false };
window.mcu = state; // for tests and debugging

class FriendlyError extends Error {}

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

function setStatus(text, kind = '') {
  $('status').textContent = text;
  $('status').className = `status ${kind}`;
}

/** Turns an HTTP error from the API into words a person understands. */
async function apiError(res, what) {
  let code = '';
  let message = '';
  try {
    const body = await res.json();
    code = body?.error?.code ?? '';
    message = body?.error?.message ?? '';
  } catch {
    /* not JSON */
  }
  if (res.status === 401 && code === 'token_expired') return new FriendlyError('Your invitation has expired. Ask for a new link and join again.');
  if (res.status === 401) return new FriendlyError('Your invitation is not valid for this server. Ask for a new link.');
  if (res.status === 403) return new FriendlyError(`You are not allowed to ${what} in this room.`);
  if (res.status === 404) return new FriendlyError('This room does not exist (any more).');
  if (res.status === 409) return new FriendlyError(message.includes('full') ? 'This room is full. Try again later, or join with "Watch only".' : message);
  if (res.status === 400 && code === 'codec_unsupported') return new FriendlyError('Your browser cannot send or play the video format this room uses.');
  return new FriendlyError(`The server could not ${what} (${res.status}${message ? `: ${message}` : ''}).`);
}

async function request(url, init, what) {
  let res;
  try {
    res = await fetch(url, init);
  } catch {
    throw new FriendlyError('The server is unreachable. Check your connection and try again.');
  }
  if (!res.ok) throw await apiError(res, what);
  return res;
}

async function getToken(room, identity, displayName, publish) {
  const fromUrl = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromUrl) return { token: fromUrl, iceServers: [] };
  const res = await fetch('/v1/dev/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room, identity, displayName, canPublish: publish, canSubscribe: true }),
  }).catch(() => {
    throw new FriendlyError('The server is unreachable. Check your connection and try again.');
  });
  if (res.status === 404) throw new FriendlyError('This server does not hand out invitations to browsers. Open the meeting link your app gave you.');
  if (!res.ok) throw await apiError(res, 'join');
  return res.json();
}

function waitForIce(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const done = () => pc.iceGatheringState === 'complete' && resolve();
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, 2000); // host candidates are enough on most networks; do not wait forever for STUN
  });
}

/** WHIP/WHEP: POST the offer, apply the answer, remember the session URL for DELETE. */
async function negotiate(pc, endpoint, what) {
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIce(pc);
  // The token goes in the query, not in an Authorization header: when the room runs on another node of the cluster the
  // server answers 307 to it, and browsers drop Authorization on a redirect to another origin (the query is kept).
  const url = new URL(endpoint, window.location.href);
  url.searchParams.set('token', state.token);
  const res = await request(url.toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: pc.localDescription.sdp,
  }, what);
  // the session lives on the node that answered (res.url: after any redirect)
  const resourceUrl = new URL(res.headers.get('location'), res.url || url).toString();
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return resourceUrl;
}

function watchConnection(pc, label) {
  pc.addEventListener('connectionstatechange', () => {
    if (state.leaving) return;
    const s = pc.connectionState;
    if (s === 'connected') setStatus('Connected', 'ok');
    else if (s === 'disconnected') setStatus(`Connection interrupted (${label}); trying to recover…`, 'warn');
    else if (s === 'failed') {
      setStatus('Disconnected', 'warn');
      showError('The connection to the server was lost. Leave and join again.');
    }
  });
}

async function startPublishing() {
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: { ideal: 640 }, height: { ideal: 360 } } });
  } catch (e) {
    if (e.name === 'NotAllowedError' || e.name === 'SecurityError') {
      throw new FriendlyError('Camera and microphone access was refused. Allow it in your browser (the icon in the address bar), or join with "Watch only".');
    }
    if (e.name === 'NotFoundError' || e.name === 'OverconstrainedError') throw new FriendlyError('No camera or microphone was found. Connect one, or join with "Watch only".');
    if (e.name === 'NotReadableError') throw new FriendlyError('Your camera or microphone is in use by another application.');
    throw new FriendlyError(`Could not start your camera or microphone (${e.name}).`);
  }
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  for (const track of state.stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [state.stream] });
  watchConnection(pc, 'camera');
  state.publish = { pc, url: '' };
  state.publish.url = await negotiate(pc, `/v1/rooms/${encodeURIComponent(state.room)}/whip`, 'publish your camera');
}

async function startWatching() {
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const mix = new MediaStream();
  pc.addEventListener('track', (e) => {
    mix.addTrack(e.track);
    $('mix').srcObject = mix;
  });
  watchConnection(pc, 'mix');
  state.subscribe = { pc, url: '' };
  state.subscribe.url = await negotiate(pc, `/v1/rooms/${encodeURIComponent(state.room)}/whep`, 'play the meeting');
  $('mix').play().catch(() => undefined);
}

async function join(mode) {
  showError('');
  const room = $('room').value.trim();
  const name = $('name').value.trim();
  if (!$('join').reportValidity()) return;
  const identity = `${name.toLowerCase().replace(/[^a-z0-9_.@:+-]+/g, '-').slice(0, 40) || 'guest'}-${Math.random().toString(36).slice(2, 8)}`;
  for (const b of document.querySelectorAll('#join button')) b.disabled = true;
  setStatus('Connecting…');
  state.leaving = false;
  try {
    const grant = await getToken(room, identity, name, mode === 'publish');
    Object.assign(state, { room, token: grant.token, iceServers: grant.iceServers ?? [] });
    if (mode === 'publish') await startPublishing();
    await startWatching();
    watchEvents();
    $('join').hidden = true;
    $('meeting').hidden = false;
    $('mute-mic').hidden = $('mute-cam').hidden = mode !== 'publish';
    $('room-label').textContent = `Room "${room}" · you are ${name}${mode === 'publish' ? '' : ' (watching)'}`;
    history.replaceState(null, '', `?room=${encodeURIComponent(room)}${location.hash}`);
  } catch (e) {
    await leave(true);
    setStatus('Not connected');
    showError(e instanceof FriendlyError ? e.message : `Something went wrong: ${e.message}`);
  } finally {
    for (const b of document.querySelectorAll('#join button')) b.disabled = false;
  }
}

async function leave(quiet = false) {
  state.leaving = true;
  const sessions = [state.publish, state.subscribe].filter(Boolean);
  await Promise.allSettled(
    sessions.filter((s) => s.url).map((s) => fetch(s.url, { method: 'DELETE', headers: { authorization: `Bearer ${state.token}` } })),
  );
  for (const s of sessions) s.pc.close();
  state.events?.close();
  $('people').replaceChildren();
  state.stream?.getTracks().forEach((t) => t.stop());
  Object.assign(state, { publish: null, subscribe: null, stream: null, events: null });
  $('mix').srcObject = null;
  $('meeting').hidden = true;
  $('join').hidden = false;
  if (!quiet) setStatus('You left the meeting');
}

function toggle(kind, button, onText, offText) {
  const track = state.stream?.getTracks().find((t) => t.kind === kind);
  if (!track) return;
  track.enabled = !track.enabled;
  // A camera that is off sends nothing at all (not black frames), so the mix shows your name on a placeholder tile.
  const sender = kind === 'video' ? state.publish?.pc.getTransceivers().find((t) => t.receiver.track.kind === 'video')?.sender : null;
  if (sender) sender.replaceTrack(track.enabled ? track : null);
  button.setAttribute('aria-pressed', String(!track.enabled));
  button.textContent = track.enabled ? onText : offText;
}

/** The room's participants and active speaker, from the events WebSocket (`/v1/rooms/{name}/events`). */
function watchEvents() {
  const people = new Map();
  let speaker = null;
  const render = () => {
    const list = $('people');
    list.replaceChildren(
      ...[...people.values()].map((p) => {
        const li = document.createElement('li');
        li.textContent = `${p.displayName || p.identity}${p.identity === speaker ? ' · speaking' : ''}`;
        if (p.identity === speaker) li.className = 'speaking';
        return li;
      }),
    );
  };
  const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/v1/rooms/${encodeURIComponent(state.room)}/events`);
  ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'auth', token: state.token })));
  ws.addEventListener('message', (m) => {
    const e = JSON.parse(m.data);
    if (e.type === 'snapshot') {
      people.clear();
      for (const p of e.participants) people.set(p.identity, p);
      speaker = e.activeSpeaker;
    } else if (e.type === 'participantJoined') people.set(e.participant.identity, e.participant);
    else if (e.type === 'participantLeft') people.delete(e.participant.identity);
    else if (e.type === 'activeSpeakerChanged') speaker = e.identity;
    else return;
    render();
  });
  state.events = ws;
}

$('join').addEventListener('submit', (e) => {
  e.preventDefault();
  join(e.submitter?.dataset.mode ?? 'publish');
});
$('leave').addEventListener('click', () => leave());
$('mute-mic').addEventListener('click', (e) => toggle('audio', e.currentTarget, 'Mute microphone', 'Unmute microphone'));
$('mute-cam').addEventListener('click', (e) => toggle('video', e.currentTarget, 'Turn camera off', 'Turn camera on'));
window.addEventListener('pagehide', () => {
  for (const s of [state.publish, state.subscribe].filter(Boolean)) {
    if (s.url) fetch(s.url, { method: 'DELETE', headers: { authorization: `Bearer ${state.token}` }, keepalive: true });
  }
});
const params = new URLSearchParams(location.search);
if (params.get('room')) $('room').value = params.get('room');
