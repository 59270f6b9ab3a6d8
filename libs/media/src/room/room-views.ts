import type { Publisher } from './publisher';
import type { Subscriber } from './subscriber';

/** How a room shows its participants and its delivery (pure: built from the sessions on every call). */
export type SubscriberStatsView = ReturnType<Subscriber['stats']>;

export type PublisherView = {
  id: string;
  audio: boolean;
  video: boolean;
  videoCodec?: string;
  /** What the participant said it muted (see `trackMuted`). */
  audioMuted: boolean;
  videoMuted: boolean;
  since: string;
  stats: { packetsIn: number; bytesIn: number; framesIn: number; pliSent: number; packetsDropped: number };
};

export interface ParticipantView {
  identity: string;
  displayName?: string;
  publisher?: PublisherView;
  /** A second video (and audio) from the same participant: a screen share. */
  screen?: PublisherView;
  subscriber?: {
    id: string;
    since: string;
    /** The rendition it receives (null: video paused, audio only), the one it is switching to, and its downlink estimate. */
    rendition: string | null;
    targetRendition: string | null;
    estimateKbps?: number;
    stats: SubscriberStatsView;
  };
}

export type DeliveryTotals = { switchesUp: number; switchesDown: number; retransmissions: number; retransmissionsSkipped: number; nacksReceived: number; probePacketsOut: number };

export interface DeliveryStats {
  /** Subscribers per rendition they receive or are switching to (`paused`: audio only). */
  byRendition: Record<string, number>;
  estimatesKbps: number[];
  /** Since the room opened: `retired` (subscribers that left) plus the current ones. */
  totals: DeliveryTotals;
}

/** One entry per identity: its camera, screen share and subscription (hidden recorder/livestream subscribers are left out). */
export function participantViews(publishers: Iterable<Publisher>, subscribers: Iterable<Subscriber>): ParticipantView[] {
  const byIdentity = new Map<string, ParticipantView>();
  const get = (identity: string) => {
    let p = byIdentity.get(identity);
    if (!p) byIdentity.set(identity, (p = { identity }));
    return p;
  };
  for (const p of publishers) {
    const v = get(p.identity);
    if (p.displayName) v.displayName = p.displayName;
    v[p.source === 'screen' ? 'screen' : 'publisher'] = {
      id: p.id,
      audio: p.hasAudio,
      video: Boolean(p.videoCodec),
      ...(p.videoCodec ? { videoCodec: p.videoCodec } : {}),
      audioMuted: p.muted.audio,
      videoMuted: p.muted.video,
      since: p.createdAt.toISOString(),
      stats: { packetsIn: p.packetsIn, bytesIn: p.bytesIn, framesIn: p.framesIn, pliSent: p.pliSent, packetsDropped: p.packetsDropped },
    };
  }
  for (const s of subscribers) {
    if (s.hidden) continue;
    const q = s.quality;
    get(s.identity).subscriber = {
      id: s.id,
      since: s.createdAt.toISOString(),
      rendition: q.rendition,
      targetRendition: q.target,
      ...(q.estimateKbps !== undefined ? { estimateKbps: q.estimateKbps } : {}),
      stats: s.stats(),
    };
  }
  return [...byIdentity.values()];
}

export function deliveryStats(subscribers: Iterable<Subscriber>, retired: DeliveryTotals): DeliveryStats {
  const byRendition: Record<string, number> = {};
  const estimatesKbps: number[] = [];
  const totals = { ...retired };
  for (const s of subscribers) {
    const q = s.quality;
    const key = q.target ?? 'paused';
    byRendition[key] = (byRendition[key] ?? 0) + 1;
    if (q.estimateKbps !== undefined) estimatesKbps.push(q.estimateKbps);
    const st = s.stats();
    for (const k of Object.keys(totals) as Array<keyof DeliveryTotals>) totals[k] += st[k];
  }
  return { byRendition, estimatesKbps, totals };
}
