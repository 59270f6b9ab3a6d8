// The viewer page, for people without WebRTC: plays the room's HLS with hls.js (served by us), the room token (or a
// viewers' invitation) in the link. The room's events say whether the meeting has started (someone sends a picture
// or sound), who is in, and when it has ended (the room is deleted).
import { $, backoffMs, fromHash, FriendlyError, jsonHeaders, request, RoomEvents, setStatus, showError } from './shared.js';
import { RoomState, renderPeople } from './room-state.js';

const video = $('player');
const room = new URLSearchParams(location.search).get('room') ?? '';
const viewer = { room, token: '', hls: null, phase: 'loading', view: new RoomState(), attempt: 0 };
window.mcu = viewer; // for tests and debugging
const enc = encodeURIComponent;

function notice(phase, text) {
  viewer.phase = phase;
  $('notice').textContent = text;
  $('notice').hidden = !text;
  $('notice').dataset.phase = phase;
}

async function tokenForMe() {
  const token = fromHash('token');
  if (token) return token;
  const invite = fromHash('invite');
  if (!invite) throw new FriendlyError('This link is incomplete: it has no invitation in it. Ask for the viewers’ link again.');
  const res = await request(`/v1/rooms/${enc(room)}/join`, { method: 'POST', headers: jsonHeaders(invite), body: JSON.stringify({ displayName: 'Viewer' }) }, 'watch');
  return (await res.json()).token;
}

function stopPlayer() {
  viewer.hls?.destroy();
  viewer.hls = null;
  video.removeAttribute('src');
  video.load();
}

/** The room as its events say: not started, live, everyone gone, or ended. */
function decide() {
  if (viewer.phase === 'ended') return;
  if (viewer.view.live) return play();
  stopPlayer();
  if (viewer.phase === 'loading' || viewer.phase === 'waiting') notice('waiting', 'The meeting has not started yet. The stream starts here by itself as soon as someone joins.');
  else notice('paused', 'Everyone has left for now. The stream continues here when someone is back.');
  setStatus('Waiting', 'warn');
}

function ended(text = 'The meeting has ended. Thank you for watching.') {
  stopPlayer();
  notice('ended', text);
  setStatus('Ended');
}

function play() {
  if (viewer.hls || video.src) return;
  const url = `/v1/rooms/${enc(room)}/hls/index.m3u8?token=${enc(viewer.token)}`;
  notice('starting', 'The stream is starting…');
  setStatus('Starting…');
  if (window.Hls?.isSupported()) {
    const hls = new window.Hls({ liveSyncDurationCount: 3, manifestLoadPolicy: { default: { maxTimeToFirstByteMs: 15000, maxLoadTimeMs: 20000, timeoutRetry: { maxNumRetry: 2, retryDelayMs: 1000, maxRetryDelayMs: 4000 }, errorRetry: { maxNumRetry: 4, retryDelayMs: 1000, maxRetryDelayMs: 4000 } } } });
    viewer.hls = hls;
    hls.on(window.Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => undefined));
    hls.on(window.Hls.Events.ERROR, (_e, data) => data.fatal && hls === viewer.hls && void recoverPlayer(data.response?.code ?? 0));
    hls.loadSource(url);
    hls.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = url; // Safari plays HLS itself
    video.play().catch(() => undefined);
  } else {
    notice('error', 'This browser cannot play the stream. Try another browser.');
  }
}

/** The player gave up: why, in words, and try again while the meeting is live. */
async function recoverPlayer(status) {
  stopPlayer();
  if (status === 401) return ended('This link has expired. Ask for a new one.');
  if (status === 403) return ended('This link is not for this meeting.');
  if (status === 404) return ended();
  const wait = backoffMs(viewer.attempt++);
  notice('starting', `The stream was interrupted. Trying again in ${Math.ceil(wait / 1000)} s…`);
  setStatus('Reconnecting…', 'warn');
  await new Promise((r) => setTimeout(r, wait));
  if (viewer.phase !== 'ended') decide();
}

video.addEventListener('playing', () => {
  viewer.attempt = 0;
  notice('playing', '');
  setStatus('Live', 'ok');
  $('unmute').hidden = !video.muted;
});
$('unmute').addEventListener('click', () => {
  video.muted = false;
  $('unmute').hidden = true;
});

async function start() {
  if (!room) return ended('This link is incomplete: it names no meeting.');
  try {
    viewer.token = await tokenForMe();
  } catch (e) {
    notice('error', '');
    showError(e.message);
    return setStatus('Not connected');
  }
  new RoomEvents(room, viewer.token, {
    onEvent: (e) => {
      viewer.view.apply(e);
      renderPeople($('people'), viewer.view);
      decide();
    },
    onState: (s) => s === 'lost' && setStatus('Reconnecting…', 'warn'),
    onFatal: (message, code) => (code === 4404 || code === 4410 ? ended() : ended(message)),
  });
}

notice('loading', 'Loading…');
void start();
