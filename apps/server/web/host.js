// The host page: create a meeting (with the API key once, or from a host link `#token=…` carrying the roomAdmin
// grant), copy invitations for participants and viewers, see who is in, change the layout and pin someone, record,
// livestream and HLS (host-outputs.js). Every call after sign-in uses the host token: the room's admin actions only.
import { $, apiError, copyText, el, FriendlyError, fromHash, jsonHeaders, request, RoomEvents, setStatus, showError, tokenClaims } from './shared.js';
import { RoomState, renderPeople } from './room-state.js';
import { Outputs } from './host-outputs.js';

/** The development credentials the README publishes: valid only on a server on loopback (or MCU_DEV=1). */
const DEV_KEY = 'devkey';
const DEV_SECRET = 'devsecret-change-me';
const enc = encodeURIComponent;
const host = { room: '', token: '', expiresAt: 0, events: null, view: new RoomState(), outputs: null };
window.mcu = host; // for tests and debugging

/** A request with the host token; errors in plain words. */
const api = (path, init = {}, what = 'do that') => request(path, { ...init, headers: { ...jsonHeaders(host.token), ...(init.headers ?? {}) } }, what);

async function createMeeting() {
  const room = $('room').value.trim();
  const [width, height] = $('size').value.split('x').map(Number);
  const headers = { 'content-type': 'application/json', authorization: `Basic ${btoa(`${$('api-key').value}:${$('api-secret').value}`)}` };
  let res;
  try {
    res = await fetch('/v1/rooms', { method: 'POST', headers, body: JSON.stringify({ name: room, width, height }) });
  } catch {
    throw new FriendlyError('The server is unreachable. Check your connection.');
  }
  if (res.status === 401) throw new FriendlyError('The API key or secret is wrong.');
  if (res.status !== 201 && res.status !== 409) throw await apiError(res, 'create the meeting'); // 409: it exists, host it
  const grant = await request(
    `/v1/rooms/${enc(room)}/tokens`,
    { method: 'POST', headers, body: JSON.stringify({ identity: `host-${Math.random().toString(36).slice(2, 8)}`, displayName: 'Host', roomAdmin: true, canPublish: false, canSubscribe: true, ttlSeconds: 12 * 3600 }) },
    'create a host link',
  );
  $('api-secret').value = '';
  return (await grant.json()).token;
}

/** Two invitations: one link for every participant, one for every viewer (each person gets a token of their own). */
async function makeLinks() {
  const invite = async (canPublish) => {
    const body = { identity: canPublish ? 'invite' : 'viewer-invite', invite: true, canPublish, canSubscribe: true, ttlSeconds: 7 * 24 * 3600 };
    const res = await api(`/v1/rooms/${enc(host.room)}/tokens`, { method: 'POST', body: JSON.stringify(body) }, 'create an invitation');
    return res.json();
  };
  const [p, v] = await Promise.all([invite(true), invite(false)]);
  $('invite-link').value = `${location.origin}/?room=${enc(host.room)}#invite=${p.token}`;
  $('viewer-link').value = `${location.origin}/watch?room=${enc(host.room)}#invite=${v.token}`;
  $('join-self').href = $('invite-link').value;
  $('links-expire').textContent = new Date(p.expiresAt).toLocaleString();
}

async function changeLayout(patch) {
  try {
    await api(`/v1/rooms/${enc(host.room)}`, { method: 'PATCH', body: JSON.stringify(patch) }, 'change the layout');
  } catch (e) {
    showError(e.message);
    render();
  }
}

function render() {
  const v = host.view;
  renderPeople($('people'), v, {
    extra: (p) => [
      el(
        'button',
        { type: 'button', className: 'small secondary', 'aria-pressed': String(v.pinned === p.identity), onclick: () => changeLayout({ pinnedIdentity: v.pinned === p.identity ? null : p.identity }) },
        v.pinned === p.identity ? 'Unpin' : 'Pin',
        el('span', { className: 'visually-hidden' }, ` ${p.displayName || p.identity}`),
      ),
      ...(p.subscriber ? [el('span', { className: 'badge quality' }, p.subscriber.rendition === null ? 'video paused (weak link)' : `receives ${p.subscriber.rendition}`)] : []),
    ],
  });
  $('nobody').hidden = v.people.size > 0;
  for (const r of document.querySelectorAll('input[name="layout"]')) r.checked = r.value === v.layout;
  const pinned = v.pinned && v.people.get(v.pinned);
  $('pinned').textContent = v.pinned
    ? `Pinned: ${pinned?.displayName || v.pinned} (large in the speaker, presentation and single layouts).`
    : 'Nobody is pinned: the speaker and single layouts follow who talks; presentation shows a screen share large.';
}

function connectEvents() {
  host.events = new RoomEvents(host.room, host.token, {
    onEvent: (e) => {
      host.view.apply(e);
      host.outputs.onEvent(e);
      render();
    },
    onState: (s) => (s === 'open' ? setStatus('Connected', 'ok') : setStatus('Reconnecting to the meeting…', 'warn')),
    onFatal: (message, code) => {
      if (code === 4404 || code === 4410) {
        // an empty room closes after a while (ROOM_IDLE_SECONDS); the invitation opens it again
        setStatus('Waiting for someone to join (the room opens with the first person)', 'warn');
        host.view.apply({ type: 'snapshot', participants: [], activeSpeaker: null, layout: host.view.layout, pinnedIdentity: host.view.pinned, tiles: [] });
        setTimeout(connectEvents, 5000);
      } else {
        setStatus('Disconnected', 'warn');
        showError(message);
      }
    },
  });
}

async function openPanel(token) {
  const claims = tokenClaims(token);
  if (!claims?.grants?.roomAdmin) throw new FriendlyError('This link is not a host link for a meeting. Ask for a new one.');
  if (claims.exp * 1000 < Date.now()) throw new FriendlyError('This host link has expired. Ask for a new one.');
  Object.assign(host, { room: claims.room, token, expiresAt: claims.exp });
  history.replaceState(null, '', `/host#token=${token}`); // a reload keeps the host session; the API secret is gone
  host.outputs = new Outputs(host, api);
  await makeLinks();
  $('create').hidden = true;
  $('panel').hidden = false;
  $('meeting-title').textContent = `Meeting “${host.room}”`;
  $('meeting-title').focus();
  connectEvents();
  await host.outputs.start();
}

$('create').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError('');
  $('create-button').disabled = true;
  setStatus('Creating the meeting…');
  try {
    await openPanel(await createMeeting());
  } catch (err) {
    setStatus('Not signed in');
    showError(err.message);
  } finally {
    $('create-button').disabled = false;
  }
});
for (const r of document.querySelectorAll('input[name="layout"]')) r.addEventListener('change', () => r.checked && changeLayout({ layout: r.value }));
$('copy-invite').addEventListener('click', (e) => copyText($('invite-link').value, e.currentTarget, $('invite-link')));
$('copy-viewer').addEventListener('click', (e) => copyText($('viewer-link').value, e.currentTarget, $('viewer-link')));

$('room').value = `meeting-${Math.random().toString(36).slice(2, 7)}`;
const handed = fromHash('token');
if (handed) {
  openPanel(handed).catch((e) => {
    showError(e.message);
    setStatus('Not signed in');
  });
} else {
  fetch('/v1/dev')
    .then((r) => r.json())
    .then((d) => {
      if (!d.devTokens) return;
      $('api-key').value = DEV_KEY;
      $('api-secret').value = DEV_SECRET;
      $('dev-note').hidden = false;
    })
    .catch(() => undefined);
}
