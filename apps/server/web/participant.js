// The participant page: publish camera + microphone over WHIP (and a screen share, `?source=screen`), watch the room's
// mix over WHEP, see who is in and who speaks (events WebSocket), your own camera live over your tile, the connection's
// quality, and reconnect by itself (re-POST WHIP/WHEP with backoff) after a network change or a server restart.
// Tokens: `#token=…` (issued by your app), `#invite=…` (an invitation, exchanged for your own token), or in
// development the dev token endpoint.
import { $, apiError, backoffMs, endSession, fromHash, FriendlyError, jsonHeaders, mediaError, negotiate, request, RoomEvents, setStatus, showError, tokenClaims } from './shared.js';
import { RoomState, renderPeople } from './room-state.js';
import { fillDeviceSelects, openLocalMedia, openTrack, remember } from './devices.js';
import { SelfView } from './selfview.js';
import { QualityIndicator } from './quality.js';

const view = new RoomState();
const state = { room: '', token: '', identity: '', iceServers: [], mode: 'publish', stream: null, micMuted: false, camOff: false, publish: null, subscribe: null, screen: null, events: null, joined: false, leaving: false, recovering: false, view, log: [] };
window.mcu = state; // for tests and debugging
const selfView = new SelfView($('mix'), $('self-view'));
const quality = new QualityIndicator($('quality'));
const enc = encodeURIComponent;

async function getToken(room, name, publish) {
  const token = fromHash('token');
  if (token) return { token, identity: tokenClaims(token)?.sub ?? '', iceServers: [] };
  const invite = fromHash('invite');
  if (invite) {
    const res = await request(`/v1/rooms/${enc(room)}/join`, { method: 'POST', headers: jsonHeaders(invite), body: JSON.stringify({ displayName: name }) }, 'join');
    return res.json();
  }
  const identity = `${name.toLowerCase().replace(/[^a-z0-9_.@:+-]+/g, '-').slice(0, 40) || 'guest'}-${Math.random().toString(36).slice(2, 8)}`;
  const res = await fetch('/v1/dev/tokens', { method: 'POST', headers: jsonHeaders(), body: JSON.stringify({ room, identity, displayName: name, canPublish: publish, canSubscribe: true }) }).catch(() => {
    throw new FriendlyError('The server is unreachable. Check your connection and try again.');
  });
  if (res.status === 404) throw new FriendlyError('This server does not hand out invitations to browsers. Open the meeting link you were given.');
  if (!res.ok) throw await apiError(res, 'join');
  return res.json();
}

const newPeer = () => new RTCPeerConnection({ iceServers: state.iceServers });
const sessions = () => [state.publish, state.subscribe, state.screen].filter((s) => s?.pc);
const senderOf = (kind) => state.publish?.pc.getTransceivers().find((t) => t.receiver.track.kind === kind)?.sender;

/** Connected once every session is; an interruption that lasts, or a failure, starts a reconnect. */
function watchPeer(pc) {
  let timer;
  pc.addEventListener('connectionstatechange', () => {
    if (pc.retired || state.leaving) return;
    clearTimeout(timer);
    const s = pc.connectionState;
    if (s === 'connected' && !state.recovering && sessions().every((x) => x.pc.connectionState === 'connected')) setStatus('Connected', 'ok');
    else if (s === 'disconnected') {
      setStatus('Connection interrupted…', 'warn');
      timer = setTimeout(() => pc.connectionState !== 'connected' && recover('the connection was interrupted'), 2500);
    } else if (s === 'failed') recover('the connection failed');
  });
}

async function startPublishing() {
  const pc = newPeer();
  const audio = state.stream.getAudioTracks()[0];
  const video = state.stream.getVideoTracks()[0];
  pc.addTransceiver(audio ?? 'audio', { direction: 'sendonly', streams: [state.stream] });
  // a camera that is off sends nothing at all (not black frames): the mix shows your name on a placeholder tile
  pc.addTransceiver(state.camOff || !video ? 'video' : video, { direction: 'sendonly', streams: [state.stream] });
  await open(pc, `/v1/rooms/${enc(state.room)}/whip`, 'send your camera', (s) => (state.publish = s));
}

/** One WHIP/WHEP session: listed in `state` at once (a reconnect may retire it while it is set up), then negotiated. */
async function open(pc, endpoint, what, register) {
  const session = { pc, url: '' };
  register(session);
  watchPeer(pc);
  session.url = await negotiate(pc, endpoint, state.token, what);
  if (pc.retired) void endSession(session, state.token); // retired meanwhile: end what the server just set up
  return session;
}

async function startWatching() {
  const pc = newPeer();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const mix = new MediaStream();
  pc.addEventListener('track', (e) => {
    mix.addTrack(e.track);
    $('mix').srcObject = mix;
  });
  await open(pc, `/v1/rooms/${enc(state.room)}/whep`, 'play the meeting', (s) => (state.subscribe = s));
  if (pc.retired) return;
  $('mix').play().catch(() => undefined);
  quality.watch(pc, $('mix'), () => view.canvas);
}

async function publishScreen() {
  const pc = newPeer();
  const screen = state.screen;
  pc.addTransceiver(screen.stream.getVideoTracks()[0], { direction: 'sendonly', streams: [screen.stream] });
  const s = await open(pc, `/v1/rooms/${enc(state.room)}/whip?source=screen`, 'share your screen', (x) => Object.assign(screen, { pc: x.pc }));
  if (state.screen === screen && screen.pc === pc) screen.url = s.url;
}

function onRoomEvent(e) {
  view.apply(e);
  const me = view.people.get(state.identity);
  if (e.type === 'snapshot' && me?.subscriber) quality.setServer(me.subscriber);
  if (e.type === 'subscriberQualityChanged' && e.participant.identity === state.identity) quality.setServer({ rendition: e.rendition, estimateKbps: e.estimateKbps });
  renderPeople($('people'), view, { me: state.identity });
  placeSelfView();
}

function placeSelfView() {
  const tile = view.tiles.find((t) => t.identity === state.identity && t.kind === 'camera') ?? null;
  selfView.update({ tile, canvas: view.canvas, enabled: state.mode === 'publish' && !state.camOff });
}

/** WHIP (camera, screen), WHEP and the events socket; throws a FriendlyError (`retry` when worth another try). */
async function connectAll() {
  // the sessions are independent: set them up side by side (a reconnect after a restart is back sooner)
  await Promise.all([state.mode === 'publish' ? startPublishing() : null, startWatching(), state.screen ? publishScreen() : null]);
  state.events = new RoomEvents(state.room, state.token, {
    onEvent: onRoomEvent,
    onState: (s) => s === 'lost' && recover('the server closed the connection'), // recover() waits until joined
    onFatal: (message) => state.joined && fail(message),
    reconnect: false, // the whole page reconnects (below)
  });
  await state.events.ready();
  sendMute();
}

/** Ends the sessions (keeping the camera, microphone and screen streams) before a reconnect or a leave. */
function retire({ keepalive = false } = {}) {
  const ending = sessions().map((s) => {
    s.pc.retired = true;
    return endSession(s, state.token, { keepalive });
  });
  state.publish = state.subscribe = null;
  if (state.screen) Object.assign(state.screen, { pc: null, url: '' });
  state.events?.close();
  state.events = null;
  quality.stop();
  return Promise.allSettled(ending);
}

/** What the reconnects did, with times (the last 50 lines, for tests and debugging: `mcu.log`). */
function note(line) {
  state.log.push(`${Date.now()} ${line}`);
  if (state.log.length > 50) state.log.shift();
}

/** Back into the meeting after a network change or a server restart: everything again, with backoff, said on screen. */
async function recover(reason) {
  if (state.recovering || state.leaving || !state.joined) return;
  state.recovering = true;
  const banner = $('banner');
  banner.hidden = false;
  banner.textContent = `Connection lost (${reason}). Reconnecting…`;
  setStatus('Reconnecting…', 'warn');
  for (let attempt = 0; !state.leaving; attempt++) {
    retire();
    note(`attempt ${attempt + 1} (${reason})`);
    try {
      await connectAll();
      note('back');
      state.recovering = false;
      banner.textContent = 'Reconnected.';
      setTimeout(() => !state.recovering && (banner.hidden = true), 3000);
      setStatus(sessions().every((s) => s.pc.connectionState === 'connected') ? 'Connected' : 'Connecting…', 'ok');
      return;
    } catch (e) {
      if (state.leaving) return;
      note(`failed: ${e.message}`);
      if (e instanceof FriendlyError && !e.retry) return fail(e.message);
      const wait = backoffMs(attempt, e);
      banner.textContent = `Reconnecting… attempt ${attempt + 1} did not work (${e.message}). Next try in ${Math.ceil(wait / 1000)} s.`;
      await new Promise((r) => {
        const stop = new AbortController(); // the browser back online: try now
        const done = () => (stop.abort(), clearTimeout(t), r());
        const t = setTimeout(done, wait);
        addEventListener('online', done, { signal: stop.signal });
      });
    }
  }
}

/** Leaves with an explanation (an expired link, a deleted meeting). */
async function fail(message) {
  state.recovering = false;
  await leave(true);
  setStatus('Disconnected', 'warn');
  showError(message);
}

function sendMute() {
  if (state.mode === 'publish') state.events?.send({ type: 'mute', audio: state.micMuted, video: state.camOff });
}

async function join(mode) {
  showError('');
  if (!$('join').reportValidity()) return;
  const room = $('room').value.trim();
  const name = $('name').value.trim();
  for (const b of document.querySelectorAll('#join button')) b.disabled = true;
  setStatus('Connecting…');
  Object.assign(state, { leaving: false, mode, micMuted: false, camOff: false });
  try {
    const grant = await getToken(room, name, mode === 'publish');
    Object.assign(state, { room, token: grant.token, identity: grant.identity, iceServers: grant.iceServers ?? [] });
    if (mode === 'publish') {
      state.stream = await openLocalMedia($('camera').value, $('microphone').value);
      selfView.setStream(state.stream);
    }
    localStorage.setItem('mcu.name', name);
    await connectAll();
    state.joined = true;
    $('join').hidden = true;
    $('meeting').hidden = false;
    for (const id of ['mute-mic', 'mute-cam', 'share']) $(id).hidden = mode !== 'publish';
    $('share').hidden ||= !navigator.mediaDevices?.getDisplayMedia; // phones cannot share a screen
    if (mode === 'publish') $('devices-slot').append($('devices'));
    else $('devices').hidden = true;
    $('room-label').textContent = `Meeting “${room}” · you are ${name}${mode === 'publish' ? '' : ' (watching)'}`;
    history.replaceState(null, '', `?room=${enc(room)}${location.hash}`);
    await fillDeviceSelects($('camera'), $('microphone')); // with names now that the browser allowed access
    $('leave').focus();
  } catch (e) {
    await leave(true);
    setStatus('Not connected');
    showError(e instanceof FriendlyError ? e.message : mediaError(e).message);
  } finally {
    for (const b of document.querySelectorAll('#join button')) b.disabled = false;
  }
}

async function leave(quiet = false) {
  state.leaving = true;
  state.joined = false;
  await retire();
  state.stream?.getTracks().forEach((t) => t.stop());
  state.screen?.stream.getTracks().forEach((t) => t.stop());
  Object.assign(state, { stream: null, screen: null });
  selfView.setStream(null);
  $('mix').srcObject = null;
  $('people').replaceChildren();
  $('banner').hidden = true;
  $('join').querySelector('.buttons').before($('devices'));
  $('devices').hidden = false;
  for (const [id, text] of [['mute-mic', 'Mute microphone'], ['mute-cam', 'Turn camera off'], ['share', 'Share screen']]) {
    $(id).textContent = text;
    $(id).setAttribute('aria-pressed', 'false');
  }
  $('meeting').hidden = true;
  $('join').hidden = false;
  if (!quiet) setStatus('You left the meeting');
}

function toggleMic() {
  state.micMuted = !state.micMuted;
  for (const t of state.stream?.getAudioTracks() ?? []) t.enabled = !state.micMuted;
  $('mute-mic').setAttribute('aria-pressed', String(state.micMuted));
  $('mute-mic').textContent = state.micMuted ? 'Unmute microphone' : 'Mute microphone';
  sendMute();
}

function toggleCamera() {
  state.camOff = !state.camOff;
  const track = state.stream?.getVideoTracks()[0];
  if (track) track.enabled = !state.camOff;
  senderOf('video')?.replaceTrack(state.camOff ? null : track ?? null);
  $('mute-cam').setAttribute('aria-pressed', String(state.camOff));
  $('mute-cam').textContent = state.camOff ? 'Turn camera on' : 'Turn camera off';
  sendMute();
  placeSelfView();
}

async function toggleShare() {
  if (state.screen) return stopShare();
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
  } catch (e) {
    if (e.name === 'NotAllowedError') return setStatus('Screen sharing was cancelled', 'warn');
    return showError(mediaError(e, 'screen').message);
  }
  const track = stream.getVideoTracks()[0];
  track.contentHint = 'detail';
  track.addEventListener('ended', () => stopShare()); // "Stop sharing" in the browser's own bar
  state.screen = { stream, pc: null, url: '' };
  $('share').setAttribute('aria-pressed', 'true');
  $('share').textContent = 'Stop sharing';
  try {
    await publishScreen();
  } catch (e) {
    showError(e.message);
    await stopShare();
  }
}

async function stopShare() {
  const s = state.screen;
  if (!s) return;
  state.screen = null;
  s.stream.getTracks().forEach((t) => t.stop());
  if (s.pc) s.pc.retired = true;
  $('share').setAttribute('aria-pressed', 'false');
  $('share').textContent = 'Share screen';
  await endSession(s, state.token);
}

/** Another camera or microphone, chosen before or during the meeting (remembered for next time). */
async function chooseDevice(kind) {
  const select = kind === 'video' ? $('camera') : $('microphone');
  remember(kind === 'video' ? 'videoinput' : 'audioinput', select.value);
  if (!state.joined || !state.stream) return;
  try {
    const track = await openTrack(kind, select.value);
    const old = state.stream.getTracks().find((t) => t.kind === kind);
    track.enabled = kind === 'audio' ? !state.micMuted : !state.camOff;
    if (kind === 'audio' || !state.camOff) await senderOf(kind)?.replaceTrack(track);
    if (old) {
      state.stream.removeTrack(old);
      old.stop();
    }
    state.stream.addTrack(track);
    selfView.setStream(null);
    selfView.setStream(state.stream);
  } catch (e) {
    showError(mediaError(e).message);
  }
}

$('join').addEventListener('submit', (e) => {
  e.preventDefault();
  join(e.submitter?.dataset.mode ?? 'publish');
});
$('leave').addEventListener('click', () => leave());
$('mute-mic').addEventListener('click', toggleMic);
$('mute-cam').addEventListener('click', toggleCamera);
$('share').addEventListener('click', toggleShare);
$('camera').addEventListener('change', () => chooseDevice('video'));
$('microphone').addEventListener('change', () => chooseDevice('audio'));
addEventListener('online', () => state.joined && recover('the network changed'));
navigator.connection?.addEventListener?.('change', () => state.joined && setTimeout(() => sessions().some((s) => s.pc.connectionState !== 'connected') && recover('the network changed'), 1500));
addEventListener('pagehide', () => state.joined && retire({ keepalive: true }));

const params = new URLSearchParams(location.search);
const invite = fromHash('invite') || fromHash('token');
const inviteRoom = invite ? tokenClaims(invite)?.room : '';
if (params.get('room') || inviteRoom) $('room').value = params.get('room') || inviteRoom;
if (invite) {
  $('room-field').hidden = true;
  $('join-title').textContent = `Join “${$('room').value}”`;
  $('invited').hidden = false;
  $('invited').textContent = 'You are invited. Say your name, choose your camera and microphone, and join.';
}
$('name').value = localStorage.getItem('mcu.name') ?? '';
fillDeviceSelects($('camera'), $('microphone'));
navigator.mediaDevices?.addEventListener?.('devicechange', () => fillDeviceSelects($('camera'), $('microphone')));
