import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ConflictError, ladderOf, NotFoundError, type RenditionSpec, type RoomEventBody, type RoomOptions, type RoomUpdate, type SourceKind, type TileView, type TokenGrants, ValidationError } from '@app/core';
import type { Logger } from '../logger';
import { MIX_ALL } from '../mixer/audio-mixer';
import type { RenditionStats } from '../mixer/rendition-encoders';
import { KEYFRAME_INTERVAL_MS, type MixerTile, RoomMixer } from '../mixer/room-mixer';
import { answerOffer, answersTransportCc, codecs, createPeer, type RtcNetworkOptions, subscriberExtensions } from '../webrtc/peer-factory';
import { codecMatches, parseOffer, planPublish, planSubscribe, restrictOfferCodecs } from '../webrtc/sdp-offer';
import { type CloseReason, Publisher } from './publisher';
import { MixTap } from './mix-tap';
import { type DeliveryStats, deliveryStats, type DeliveryTotals, type ParticipantView, participantViews } from './room-views';
import { Subscriber } from './subscriber';

export interface RoomContext {
  ffmpegPath: string;
  network: RtcNetworkOptions;
  publisherTimeoutMs: number;
  maxPublishers: number;
  logger?: Logger;
}

export interface RoomEvents {
  /** What the room's event stream reports (participants, tracks, active speaker, layout). */
  event: [event: RoomEventBody];
  closed: [reason: CloseReason];
}

/** High's longest GOP while an output (recording, RTMP, HLS) takes it: HLS segments and MP4 fragments are 1 s. */
const OUTPUT_KEYFRAME_INTERVAL_MS = 1000;

const tileView = (t: MixerTile): TileView => ({ identity: t.identity, kind: t.kind, ...t.rect, ...(t.main ? { main: true } : {}) });

/**
 * A room: its publishers and subscribers (each identity publishes and subscribes at most once; a new session replaces
 * the old one) and the mixer that composes them. The mixer runs while anyone is in the room.
 */
export class Room extends EventEmitter<RoomEvents> {
  readonly createdAt = new Date();
  private readonly publishers = new Map<string, Publisher>();
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly taps = new Set<MixTap>();
  /** Delivery counters of subscribers that left (so that the room's totals never go back). */
  private readonly retiredDelivery: DeliveryTotals = { switchesUp: 0, switchesDown: 0, retransmissions: 0, retransmissionsSkipped: 0, nacksReceived: 0, probePacketsOut: 0 };
  private mixer?: RoomMixer;
  private mixerStarting?: Promise<RoomMixer>;
  private idleTimer?: NodeJS.Timeout;
  private closed = false;
  private opts: RoomOptions;
  /** Identities present (publishing, or subscribing visibly), with how many sessions each has. */
  private readonly present = new Map<string, number>();

  constructor(
    readonly name: string,
    options: RoomOptions,
    private readonly ctx: RoomContext,
  ) {
    super();
    this.opts = { ...options };
  }

  get options(): RoomOptions {
    return this.opts;
  }

  /** The renditions of the mix, high first (fixed when the room is created). */
  get ladder(): readonly RenditionSpec[] {
    return ladderOf(this.opts);
  }

  /** The active speaker's identity, when the mixer has found one. */
  get activeSpeaker(): string | undefined {
    return this.mixer?.activeSpeaker;
  }

  /** Changes the layout, pinned identity or name labels at run time; the composite follows on its next frame. */
  update(u: RoomUpdate): RoomOptions {
    if (this.closed) throw new NotFoundError(`room "${this.name}" was deleted`);
    const next: RoomOptions = { ...this.opts };
    if (u.layout !== undefined) next.layout = u.layout;
    if (u.displayNames !== undefined) next.displayNames = u.displayNames;
    if (u.pinnedIdentity === null) delete next.pinnedIdentity;
    else if (u.pinnedIdentity !== undefined) next.pinnedIdentity = u.pinnedIdentity;
    const layoutChanged = next.layout !== this.opts.layout || next.pinnedIdentity !== this.opts.pinnedIdentity;
    this.opts = next;
    this.log(`updated: layout ${next.layout}, pinned ${next.pinnedIdentity ?? 'nobody'}, names ${next.displayNames ? 'on' : 'off'}`);
    this.mixer?.setLayout({ layout: next.layout, pinnedIdentity: next.pinnedIdentity, displayNames: next.displayNames });
    // with a mixer, its relayout reports the new tiles; without one, report the change itself
    if (layoutChanged && !this.mixer) this.emitEvent({ type: 'layoutChanged', layout: next.layout, pinnedIdentity: next.pinnedIdentity ?? null, tiles: [] });
    return next;
  }

  private emitEvent(e: RoomEventBody): void {
    if (!this.closed) this.emit('event', e);
  }

  private arrive(identity: string, displayName?: string): void {
    const n = this.present.get(identity) ?? 0;
    this.present.set(identity, n + 1);
    if (n === 0) this.emitEvent({ type: 'participantJoined', participant: { identity, ...(displayName ? { displayName } : {}) } });
  }

  private depart(identity: string, reason: string): void {
    const n = (this.present.get(identity) ?? 1) - 1;
    if (n > 0) return void this.present.set(identity, n);
    this.present.delete(identity);
    this.emitEvent({ type: 'participantLeft', participant: { identity }, reason });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private log(m: string): void {
    this.ctx.logger?.log(`[room ${this.name}] ${m}`);
  }

  private async ensureMixer(): Promise<RoomMixer> {
    clearTimeout(this.idleTimer);
    if (this.mixer) return this.mixer;
    this.mixerStarting ??= (async () => {
      const logger = this.ctx.logger;
      const prefixed = logger && {
        log: (m: string) => logger.log(`[room ${this.name}] ${m}`),
        warn: (m: string) => logger.warn(`[room ${this.name}] ${m}`),
        debug: (m: string) => logger.debug?.(`[room ${this.name}] ${m}`),
      };
      const mixer = new RoomMixer(this.options, this.ladder, this.ctx.ffmpegPath, prefixed || undefined);
      const high = this.ladder[0].name;
      mixer.on('videoRtp', (r, p, k) => {
        for (const s of this.subscribers.values()) s.sendVideo(r, p, k);
        if (r === high) for (const t of this.taps) t.pushVideo(p);
      });
      mixer.on('layout', (tiles) => {
        const st = mixer.layoutState;
        this.emitEvent({ type: 'layoutChanged', layout: st.layout, pinnedIdentity: st.pinnedIdentity ?? null, tiles: tiles.map(tileView) });
      });
      mixer.on('activeSpeaker', (identity) => this.emitEvent({ type: 'activeSpeakerChanged', identity: identity ?? null }));
      mixer.on('audio', (payloads) => {
        for (const s of this.subscribers.values()) {
          const p = payloads.get(s.variant) ?? payloads.get(MIX_ALL);
          if (p) s.sendAudio(p);
        }
        const all = payloads.get(MIX_ALL);
        if (all) for (const t of this.taps) t.pushAudio(all);
      });
      try {
        await mixer.start();
      } catch (e) {
        mixer.close();
        this.mixerStarting = undefined; // let the next join try again instead of failing forever
        throw e;
      }
      this.mixer = mixer;
      this.log(`mixer started (${this.options.width}x${this.options.height}@${this.options.fps} ${this.options.videoCodec})`);
      return mixer;
    })();
    return this.mixerStarting;
  }

  /** Stops the mixer some seconds after the last participant left. */
  private scheduleIdle(): void {
    if (this.closed || this.publishers.size || this.subscribers.size || this.taps.size || !this.mixer) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.publishers.size || this.subscribers.size || this.taps.size || !this.mixer) return;
      this.mixer.close();
      this.mixer = undefined;
      this.mixerStarting = undefined;
      this.log('mixer stopped: room idle');
    }, 10_000);
  }

  private findByIdentity<T extends { identity: string }>(map: Map<string, T>, identity: string): T | undefined {
    for (const v of map.values()) if (v.identity === identity) return v;
    return undefined;
  }

  /**
   * A WHIP publisher joins. `source: 'screen'` is the participant's second video (a screen share, with optional audio):
   * it does not replace their camera, and the `presentation` layout shows it large.
   */
  async publish(grants: TokenGrants, offer: string, source: SourceKind = 'camera'): Promise<{ id: string; answer: string }> {
    if (this.closed) throw new NotFoundError(`room "${this.name}" was deleted`);
    const media = parseOffer(offer);
    const plan = planPublish(media);
    if (source === 'screen' && !plan.video) throw new ValidationError('a screen share must offer a video track', 'invalid_sdp');
    let previous: Publisher | undefined;
    for (const p of this.publishers.values()) if (p.identity === grants.identity && p.source === source) previous = p;
    if (!previous && this.publishers.size >= this.ctx.maxPublishers) {
      throw new ConflictError(`room "${this.name}" is full (${this.ctx.maxPublishers} publishers)`);
    }
    const mixer = await this.ensureMixer();
    const id = randomUUID();
    const offerCodecs = media.find((m) => m.kind === 'video')?.codecs ?? [];
    const pc = createPeer(this.ctx.network, [codecs.vp8(), codecs.h264()], [codecs.opus()]);
    const pub = new Publisher(id, grants.identity, grants.displayName, pc, plan.video, plan.audio, offerCodecs, this.ctx.publisherTimeoutMs, this.ctx.logger, source);
    const accepted = restrictOfferCodecs(offer, (kind, c) =>
      kind === 'audio' ? codecMatches(c, 'opus') : codecMatches(c, 'vp8') || codecMatches(c, 'h264'),
    );
    let answer: string;
    try {
      answer = await answerOffer(pc, accepted);
    } catch (e) {
      pub.close('error');
      this.scheduleIdle();
      throw new ValidationError(`could not answer the offer: ${(e as Error).message}`, 'invalid_sdp');
    }
    if (this.closed) {
      pub.close('room_closed');
      throw new NotFoundError(`room "${this.name}" was deleted`);
    }
    this.arrive(grants.identity, grants.displayName); // before the replaced session departs: no leave/join flicker
    if (previous) previous.close('replaced');
    this.publishers.set(id, pub);
    const participant = { identity: grants.identity };
    const tracks = [
      ...(plan.video ? [{ kind: 'video' as const, source: source === 'screen' ? ('screen' as const) : ('camera' as const), codec: plan.video }] : []),
      ...(plan.audio ? [{ kind: 'audio' as const, source: source === 'screen' ? ('screen_audio' as const) : ('microphone' as const), codec: 'opus' }] : []),
    ];
    for (const track of tracks) this.emitEvent({ type: 'trackPublished', participant, track });
    // every camera publisher has a tile (a placeholder with the name when it sends no video); a screen share only with video
    mixer.addSource({ id, identity: grants.identity, displayName: grants.displayName, kind: source, codec: plan.video, requestKeyframe: () => pub.requestKeyframe() });
    if (plan.audio) mixer.addAudio(id, grants.identity);
    pub.on('video', (f) => this.mixer?.pushVideo(id, f));
    pub.on('audio', (p) => this.mixer?.pushAudio(id, p));
    pub.once('closed', (reason) => {
      this.publishers.delete(id);
      this.mixer?.removeSource(id);
      this.mixer?.removeAudio(id);
      this.refreshVariants();
      this.log(`publisher ${grants.identity} (${id}, ${source}) left: ${reason}`);
      for (const { kind, source: s } of tracks) this.emitEvent({ type: 'trackUnpublished', participant, track: { kind, source: s }, reason });
      this.depart(grants.identity, reason);
      this.scheduleIdle();
    });
    this.refreshVariants();
    this.log(`publisher ${grants.identity} (${id}, ${source}) joined: video=${plan.video ?? 'none'} audio=${plan.audio}`);
    return { id, answer };
  }

  async subscribe(grants: TokenGrants, offer: string): Promise<{ id: string; answer: string }> {
    if (this.closed) throw new NotFoundError(`room "${this.name}" was deleted`);
    const plan = planSubscribe(parseOffer(offer), this.options.videoCodec);
    await this.ensureMixer();
    const id = randomUUID();
    const pc = createPeer(this.ctx.network, [codecs[this.options.videoCodec](true), codecs.rtx(this.options.videoCodec)], [codecs.opus()], subscriberExtensions());
    const video = plan.video ? pc.addTransceiver('video', { direction: 'sendonly' }).sender : undefined;
    const audio = plan.audio ? pc.addTransceiver('audio', { direction: 'sendonly' }).sender : undefined;
    const roomCodec = this.options.videoCodec;
    const accepted = restrictOfferCodecs(offer, (kind, c) => (kind === 'audio' ? codecMatches(c, 'opus') : codecMatches(c, roomCodec)));
    let answer: string;
    try {
      answer = await answerOffer(pc, accepted);
    } catch (e) {
      pc.close().catch(() => undefined);
      this.scheduleIdle();
      throw new ValidationError(`could not answer the offer: ${(e as Error).message}`, 'invalid_sdp');
    }
    if (this.closed || !this.mixer) {
      pc.close().catch(() => undefined);
      throw new NotFoundError(`room "${this.name}" was deleted`);
    }
    const mixer = this.mixer;
    const sub = new Subscriber({
      id,
      identity: grants.identity,
      pc,
      videoSender: video,
      audioSender: audio,
      logger: this.ctx.logger,
      hidden: grants.hidden === true,
      ladder: this.ladder,
      renditions: mixer.renditions,
      audioKbps: this.options.audioBitrateKbps,
      twcc: answersTransportCc(answer),
    });
    sub.on('qualityChanged', (q) =>
      this.emitEvent({ type: 'subscriberQualityChanged', participant: { identity: grants.identity }, subscriberId: id, rendition: q.rendition, previous: q.previous, estimateKbps: q.estimateKbps, reason: q.reason }),
    );
    if (!sub.hidden) this.arrive(grants.identity, grants.displayName);
    if (!grants.hidden) this.findByIdentity(this.subscribers, grants.identity)?.close('replaced');
    this.subscribers.set(id, sub);
    sub.once('closed', (reason) => {
      this.subscribers.delete(id);
      const st = sub.stats();
      for (const k of Object.keys(this.retiredDelivery) as Array<keyof DeliveryTotals>) this.retiredDelivery[k] += st[k];
      this.updateOutputKeyframes();
      this.mixer?.audio.release(sub.variant);
      if (!sub.hidden) this.depart(grants.identity, reason);
      this.log(`subscriber ${grants.identity} (${id}) left: ${reason}`);
      this.scheduleIdle();
    });
    this.updateOutputKeyframes();
    sub.variant = this.mixer?.audio.variantFor(grants.identity) ?? MIX_ALL;
    this.mixer?.audio.acquire(sub.variant);
    this.log(`subscriber ${grants.identity} (${id}) joined: video=${plan.video} audio=${plan.audio} mix=${sub.variant}`);
    return { id, answer };
  }

  /** An in-process tap on the mix (a recorder inside the server); like a hidden subscriber, without WebRTC. */
  async tap(o: { video: boolean }): Promise<MixTap> {
    if (this.closed) throw new NotFoundError(`room "${this.name}" was deleted`);
    const mixer = await this.ensureMixer();
    const tap = new MixTap(o.video ? this.options.videoCodec : undefined, (t) => {
      this.taps.delete(t);
      this.updateOutputKeyframes();
      this.mixer?.audio.release(MIX_ALL);
      this.scheduleIdle();
    });
    mixer.audio.acquire(MIX_ALL);
    this.taps.add(tap);
    this.updateOutputKeyframes();
    mixer.renditions.requestKeyframe(mixer.renditions.high); // the output starts at once
    return tap;
  }

  /** Re-evaluates each subscriber's mix-minus variant after publishers came or went. */
  private refreshVariants(): void {
    const audio = this.mixer?.audio;
    if (!audio) return;
    for (const s of this.subscribers.values()) {
      const v = audio.variantFor(s.identity);
      if (v === s.variant) continue;
      audio.acquire(v);
      audio.release(s.variant);
      s.variant = v;
    }
  }

  resource(kind: 'publisher' | 'subscriber', id: string): Publisher | Subscriber | undefined {
    return kind === 'publisher' ? this.publishers.get(id) : this.subscribers.get(id);
  }

  leave(kind: 'publisher' | 'subscriber', id: string): void {
    const r = this.resource(kind, id);
    if (!r) throw new NotFoundError(`no such ${kind} session in room "${this.name}"`);
    r.close('left');
  }

  participants(): ParticipantView[] {
    return participantViews(this.publishers.values(), this.subscribers.values());
  }

  /** Subscribers per rendition, their estimates, and delivery totals since the room opened (for metrics). */
  deliveryStats(): DeliveryStats {
    return deliveryStats(this.subscribers.values(), this.retiredDelivery);
  }

  /**
   * Recordings, RTMP and HLS take high and cut segments/fragments at keyframes: while any is attached (an in-process tap
   * or a hidden WHEP worker), high makes one every second; otherwise keyframes come on request and the GOP is long.
   */
  private updateOutputKeyframes(): void {
    if (!this.mixer) return;
    let outputs = this.taps.size;
    for (const s of this.subscribers.values()) if (s.hidden) outputs++;
    this.mixer.renditions.setKeyframeInterval(this.mixer.renditions.high, outputs > 0 ? OUTPUT_KEYFRAME_INTERVAL_MS : KEYFRAME_INTERVAL_MS);
  }

  /** Visible participants (hidden recorder/livestream subscribers do not count). */
  get counts(): { publishers: number; subscribers: number } {
    let subscribers = 0;
    for (const s of this.subscribers.values()) if (!s.hidden) subscribers++;
    return { publishers: this.publishers.size, subscribers };
  }

  /** Nobody but hidden subscribers (recorders) is in the room. */
  get isEmpty(): boolean {
    const c = this.counts;
    return c.publishers === 0 && c.subscribers === 0;
  }

  /** Mixer layout and counters, for the API, metrics and tests. */
  mixerState(): { running: boolean; activeSpeaker?: string; tiles: Array<TileView & { id: string }>; stats?: Record<string, number>; renditions?: RenditionStats[] } {
    if (!this.mixer) return { running: false, tiles: [] };
    const active = this.mixer.activeSpeaker;
    return {
      running: true,
      ...(active ? { activeSpeaker: active } : {}),
      tiles: this.mixer.layout().map((t) => ({ id: t.id, ...tileView(t) })),
      stats: this.mixer.stats(),
      renditions: this.mixer.renditions.stats(),
    };
  }

  /** PIDs of the mixer's ffmpeg children, if it runs. */
  mixerPids(): ReturnType<RoomMixer['pids']> | undefined {
    return this.mixer?.pids();
  }

  close(reason: CloseReason = 'room_closed'): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const p of [...this.publishers.values()]) p.close(reason);
    for (const s of [...this.subscribers.values()]) s.close(reason);
    for (const t of this.taps) t.end(`room closed: ${reason}`);
    this.taps.clear();
    this.mixer?.close();
    this.mixer = undefined;
    this.log(`closed: ${reason}`);
    this.emit('closed', reason);
    this.removeAllListeners();
  }
}
