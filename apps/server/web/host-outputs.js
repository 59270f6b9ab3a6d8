// The host's outputs of the meeting: recordings (start, stop, list with thumbnail and duration, download), RTMP
// livestreams (start, stop, status) and HLS (start, stop). Status changes arrive as room events; HLS is polled.
import { $, el, formatBytes, formatDuration, showError } from './shared.js';

const FINAL_RECORDING = ['ready', 'failed'];
const FINAL_LIVESTREAM = ['failed', 'stopped'];
const enc = encodeURIComponent;

export class Outputs {
  /** `host`: {room, token}; `api(path, init, what)`: a request with the host token. */
  constructor(host, api) {
    Object.assign(this, { host, api, current: null, tick: undefined });
    $('record').addEventListener('click', () => this.act(() => this.toggleRecording()));
    $('livestream-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.act(() => this.startLivestream());
    });
    $('hls-start').addEventListener('click', () => this.act(() => this.api(`/v1/rooms/${enc(host.room)}/hls`, { method: 'POST' }, 'start HLS').then(() => this.hls())));
    $('hls-stop').addEventListener('click', () => this.act(() => this.api(`/v1/rooms/${enc(host.room)}/hls`, { method: 'DELETE' }, 'stop HLS').then(() => this.hls())));
  }

  async start() {
    await Promise.all([this.recordings(), this.livestreams(), this.hls()]);
    setInterval(() => void this.hls().catch(() => undefined), 5000);
  }

  /** Runs a button's action, its error in words. */
  async act(fn) {
    showError('');
    try {
      await fn();
    } catch (e) {
      showError(e.message);
    }
  }

  onEvent(e) {
    if (e.type === 'recordingStatusChanged') void this.recordings().catch(() => undefined);
    if (e.type === 'livestreamStatusChanged') void this.livestreams().catch(() => undefined);
  }

  withToken(url) {
    return `${url}${url.includes('?') ? '&' : '?'}token=${enc(this.host.token)}`;
  }

  async toggleRecording() {
    $('record').disabled = true;
    try {
      if (this.current) await this.api(`/v1/recordings/${this.current.id}/stop`, { method: 'POST' }, 'stop the recording');
      else await this.api(`/v1/rooms/${enc(this.host.room)}/recordings`, { method: 'POST', body: '{}' }, 'start a recording');
    } finally {
      $('record').disabled = false;
    }
    await this.recordings();
  }

  async recordings() {
    const res = await this.api(`/v1/recordings?room=${enc(this.host.room)}&limit=20`, {}, 'list the recordings');
    const { items } = await res.json();
    this.current = items.find((r) => !FINAL_RECORDING.includes(r.status) && !r.audioOnly) ?? null;
    const button = $('record');
    button.textContent = this.current ? 'Stop recording' : 'Start recording';
    button.setAttribute('aria-pressed', String(Boolean(this.current)));
    button.className = this.current ? 'danger' : '';
    $('rec-status').textContent = this.current
      ? `Recording: ${this.current.status}${this.current.durationSeconds ? `, ${formatDuration(this.current.durationSeconds)}` : ''}`
      : items.length
        ? `${items.length} recording${items.length > 1 ? 's' : ''}`
        : 'Nothing recorded yet.';
    $('recordings').replaceChildren(...items.map((r) => this.recordingItem(r)));
    // the duration and size grow while it records: read them again every 2 s until it is done
    clearTimeout(this.tick);
    if (this.current) this.tick = setTimeout(() => void this.recordings().catch(() => undefined), 2000);
  }

  recordingItem(r) {
    const when = new Date(r.startedAt ?? r.createdAt).toLocaleString();
    // the server names a recording "<room>-<ISO time>" unless it was given a name: say when instead
    const title = r.name && !r.name.startsWith(`${this.host.room}-`) ? r.name : `Recording, ${when}`;
    const ready = r.status === 'ready' || (r.status === 'failed' && r.sizeBytes > 0);
    const facts = [r.status === 'ready' ? null : r.status, r.durationSeconds ? formatDuration(r.durationSeconds) : null, r.sizeBytes ? formatBytes(r.sizeBytes) : null].filter(Boolean).join(' · ');
    return el(
      'li',
      { className: 'recording', 'data-id': r.id, 'data-status': r.status },
      r.thumbnailUrl ? el('img', { src: this.withToken(r.thumbnailUrl), alt: '', width: 160, height: 90, loading: 'lazy' }) : el('span', { className: 'thumb-placeholder', 'aria-hidden': 'true' }),
      el(
        'span',
        { className: 'rec-text' },
        el('strong', {}, title),
        el('span', { className: 'hint duration' }, facts),
        r.warning || r.error ? el('span', { className: 'hint' }, r.warning || r.error) : null,
        ready ? el('a', { href: this.withToken(`/v1/recordings/${r.id}/file`), download: `${r.id}.${r.format}`, className: 'download', 'aria-label': `Download ${title}` }, 'Download') : null,
      ),
    );
  }

  async startLivestream() {
    const url = $('rtmp-url').value.trim();
    await this.api(`/v1/rooms/${enc(this.host.room)}/livestreams`, { method: 'POST', body: JSON.stringify({ url }) }, 'start the livestream');
    $('rtmp-url').value = '';
    await this.livestreams();
  }

  async livestreams() {
    const res = await this.api(`/v1/livestreams?room=${enc(this.host.room)}&limit=10`, {}, 'list the livestreams');
    const { items } = await res.json();
    $('livestreams').replaceChildren(
      ...items.map((l) =>
        el(
          'li',
          { 'data-id': l.id, 'data-status': l.status },
          el('span', {}, `${l.url} · ${l.status}${l.lastError && !FINAL_LIVESTREAM.includes(l.status) ? ` (${l.lastError})` : ''}`),
          FINAL_LIVESTREAM.includes(l.status)
            ? null
            : el('button', { type: 'button', className: 'small danger', onclick: () => this.act(() => this.api(`/v1/livestreams/${l.id}`, { method: 'DELETE' }, 'stop the livestream').then(() => this.livestreams())) }, 'Stop'),
        ),
      ),
    );
  }

  async hls() {
    const res = await this.api(`/v1/rooms/${enc(this.host.room)}/hls`, {}, 'read the HLS state');
    const s = await res.json();
    $('hls-status').textContent = s.running
      ? `HLS is running (since ${new Date(s.startedAt).toLocaleTimeString()}); it stops ${s.idleTimeoutSeconds} s after the last viewer leaves.`
      : 'HLS is off. It starts by itself when the first viewer opens the link.';
    $('hls-start').disabled = s.running;
    $('hls-stop').disabled = !s.running;
  }
}
