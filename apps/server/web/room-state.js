// The room as its events describe it (snapshot, then participantJoined/Left, track(Un)Published, track(Un)Muted,
// activeSpeakerChanged, layoutChanged, subscriberQualityChanged), and the participant list drawn from it.
import { el } from './shared.js';

export class RoomState {
  constructor() {
    this.people = new Map();
    this.speaker = null;
    this.layout = 'grid';
    this.pinned = null;
    this.canvas = { width: 1280, height: 720 };
    this.tiles = [];
    /** Set by the page: called with the event after each change. */
    this.onChange = () => undefined;
  }

  person(identity) {
    let p = this.people.get(identity);
    if (!p) this.people.set(identity, (p = { identity, publishing: false, screenSharing: false, audioMuted: false, videoMuted: false }));
    return p;
  }

  apply(e) {
    switch (e.type) {
      case 'snapshot':
        this.people.clear();
        for (const p of e.participants) Object.assign(this.person(p.identity), p);
        Object.assign(this, { speaker: e.activeSpeaker, layout: e.layout, pinned: e.pinnedIdentity, tiles: e.tiles ?? [] });
        if (e.width && e.height) this.canvas = { width: e.width, height: e.height };
        break;
      case 'participantJoined':
        Object.assign(this.person(e.participant.identity), e.participant);
        break;
      case 'participantLeft':
        this.people.delete(e.participant.identity);
        break;
      case 'trackPublished':
      case 'trackUnpublished': {
        const p = this.person(e.participant.identity);
        const on = e.type === 'trackPublished';
        if (e.track.source === 'screen') p.screenSharing = on;
        if (e.track.source === 'camera' || e.track.source === 'microphone') p.publishing = on;
        if (!on && e.track.source === 'microphone') p.audioMuted = false;
        if (!on && e.track.source === 'camera') p.videoMuted = false;
        break;
      }
      case 'trackMuted':
      case 'trackUnmuted':
        this.person(e.participant.identity)[e.track.kind === 'audio' ? 'audioMuted' : 'videoMuted'] = e.type === 'trackMuted';
        break;
      case 'activeSpeakerChanged':
        this.speaker = e.identity;
        break;
      case 'layoutChanged':
        Object.assign(this, { layout: e.layout, pinned: e.pinnedIdentity, tiles: e.tiles });
        if (e.width && e.height) this.canvas = { width: e.width, height: e.height };
        break;
      case 'subscriberQualityChanged':
        if (this.people.has(e.participant.identity)) this.person(e.participant.identity).subscriber = { rendition: e.rendition, estimateKbps: e.estimateKbps };
        break;
      default:
        return;
    }
    this.onChange(e);
  }

  /** The participants in a stable order (by name), with what each does. */
  list() {
    return [...this.people.values()].sort((a, b) => (a.displayName || a.identity).localeCompare(b.displayName || b.identity));
  }

  /** Whether anyone sends a picture or sound (the meeting has started). */
  get live() {
    return [...this.people.values()].some((p) => p.publishing || p.screenSharing);
  }
}

/** What a participant does, as short words: shown as badges and read by screen readers. */
export function badges(p, state) {
  const b = [];
  if (p.identity === state.speaker) b.push(['speaking', 'speaking']);
  if (p.publishing && p.audioMuted) b.push(['muted', 'microphone muted']);
  if (p.publishing && p.videoMuted) b.push(['off', 'camera off']);
  if (p.screenSharing) b.push(['sharing', 'sharing screen']);
  if (p.identity === state.pinned) b.push(['pinned', 'pinned']);
  if (!p.publishing && !p.screenSharing) b.push(['watching', 'watching']);
  return b;
}

/** Renders the participant list into `ul`; `extra(p)` may add controls (the host's Pin buttons). */
export function renderPeople(ul, state, { me = '', extra } = {}) {
  ul.replaceChildren(
    ...state.list().map((p) => {
      const name = `${p.displayName || p.identity}${p.identity === me ? ' (you)' : ''}`;
      const li = el('li', { className: p.identity === state.speaker ? 'person speaking' : 'person', 'data-identity': p.identity }, el('span', { className: 'name' }, name));
      for (const [cls, words] of badges(p, state)) li.append(el('span', { className: `badge ${cls}` }, words));
      if (extra) li.append(...extra(p));
      return li;
    }),
  );
}
