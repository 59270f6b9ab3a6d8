import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ConflictError, ladderOf, NotFoundError, type RenditionSpec, RoomClosedError, type RoomEventBody, type RoomOptions, type RoomUpdate, type SourceKind, type TileView, type TokenGrants, ValidationError } from '@app/core';
import { childLogger, type LogFields, type Logger } from '../logger';
import { MIX_ALL } from '../mixer/audio-mixer';
import type { RenditionStats } from '../mixer/rendition-encoders';
import { KEYFRAME_INTERVAL_MS, type RoomMixer } from '../mixer/room-mixer';
import { answerOffer, answersTransportCc, codecs, createPeer, type RtcNetworkOptions, subscriberExtensions } from '../webrtc/peer-factory';
import { codecMatches, parseOffer, planPublish, planSubscribe, restrictOfferCodecs } from '../webrtc/sdp-offer';
import { type CloseReason, Publisher } from './publisher';
import { MixTap } from './mix-tap';
import { createRoomMixer, tileView } from './room-mixer-wiring';
import { type DeliveryStats, deliveryStats, type DeliveryTotals, type ParticipantView, participantViews } from './room-views';
import { Subscriber } from './subscriber';
import type { SessionView } from '../workers/protocol';

export interface RoomContext {
  ffmpegPath: string;
  network: RtcNetworkOptions;
  publisherTimeoutMs: number;
  /** A session whose ICE/DTLS has not connected this long is closed (SESSION_CONNECT_TIMEOUT_SECONDS; default 20 s). */
  connectTimeoutMs?: number;
  maxPublishers: number;
  logger?: Logger;
}

export interface RoomEvents {
  /** What the room's event stream reports (participants, tracks, active speaker, layout). */
  event: [event: RoomEventBody];
  closed: [reason: CloseReason];
  /** Something the room's views show changed without a client event (a subscriber's switch at a keyframe). */
  changed: [];
}

/** High's longest GOP while an output (recording, RTMP, HLS) takes it: HLS segments and MP4 fragments are 1 s. */
const OUTPUT_KEYFRAME_INTERVAL_MS = 1000;

/**
 * A room: its publishers and subscribers (each identity publishes and subscribes at most once; a new session replaces
 * the old one) and the mixer that composes them. The mixer runs while anyone is in the room.
 */
export class Room extends EventEmitter<RoomEvents> {
  readonly createdAt = new Date();
  private readonly publishers = new Map<string, Publisher>();
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly taps = new Set<MixTap>();
  /** Publisher slots (source and identity) being set up: taken synchronously, released when the answer is out or failed. */
  private readonly joining = new Set<string>();
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
    this.logger = childLogger(ctx.logger, { room: name });
  }

  /** The context's logger, its lines carrying this room's name (publishers and subscribers add their ids). */
  private readonly logger: Logger | undefined;

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
    if (u.fit !== undefined) next.fit = u.fit;
    if (u.pinnedIdentity === null) delete next.pinnedIdentity;
    else if (u.pinnedIdentity !== undefined) next.pinnedIdentity = u.pinnedIdentity;
    const layoutChanged = next.layout !== this.opts.layout || next.pinnedIdentity !== this.opts.pinnedIdentity;
    this.opts = next;
    this.log(`updated: layout ${next.layout}, pinned ${next.pinnedIdentity ?? 'nobody'}, names ${next.displayNames ? 'on' : 'off'}, fit ${next.fit ?? 'cover'}`);
    this.mixer?.setLayout({ layout: next.layout, pinnedIdentity: next.pinnedIdentity, displayNames: next.displayNames, fit: next.fit ?? 'cover' });
    // with a mixer, its relayout reports the new tiles; without one, report the change itself
    if (layoutChanged && !this.mixer) this.emitEvent({ type: 'layoutChanged', layout: next.layout, pinnedIdentity: next.pinnedIdentity ?? null, width: next.width, height: next.height, tiles: [] });
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

  private log(m: string, fields?: LogFields): void {
    this.logger?.log(`[room ${this.name}] ${m}`, fields);
  }

  private async ensureMixer(): Promise<RoomMixer> {
    clearTimeout(this.idleTimer);
    if (this.mixer) return this.mixer;
    this.mixerStarting ??= (async () => {
      const mixer = createRoomMixer(this.name, this.options, this.ladder, this.ctx.ffmpegPath, this.ctx.logger, {
        subscribers: () => this.subscribers.values(),
        taps: () => this.taps,
        emit: (e) => this.emitEvent(e),
      });
      try {
        await mixer.start();
      } catch (e) {
        mixer.close();
        this.mixerStarting = undefined; // let the next join try again instead of failing forever
        throw e;
      }
      if (this.closed) {
        mixer.close(); // closed while it started: close() could not see it, so its encoder and clocks stop here
        throw new RoomClosedError(this.name);
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
    // The slot is taken here, synchronously, and held across the awaits below: a concurrent publish of the same identity
    // and source is refused, and the cap counts sessions being set up (checked before an await and applied after it, 30
    // concurrent offers of one token all became publishers, each with its decoder).
    const slot = `${source}\n${grants.identity}`;
    if (this.joining.has(slot)) throw new ConflictError(`a ${source} session of "${grants.identity}" is being set up in room "${this.name}"; send one offer at a time`);
    const replacing = this.findPublisher(grants.identity, source) !== undefined;
    if (!replacing && this.publishers.size + this.joining.size >= this.ctx.maxPublishers) {
      throw new ConflictError(`room "${this.name}" is full (${this.ctx.maxPublishers} publishers)`);
    }
    this.joining.add(slot);
    try {
      return await this.startPublisher(grants, offer, source, media, plan);
    } finally {
      this.joining.delete(slot);
    }
  }

  private findPublisher(identity: string, source: SourceKind): Publisher | undefined {
    for (const p of this.publishers.values()) if (p.identity === identity && p.source === source) return p;
    return undefined;
  }

  private async startPublisher(grants: TokenGrants, offer: string, source: SourceKind, media: ReturnType<typeof parseOffer>, plan: ReturnType<typeof planPublish>): Promise<{ id: string; answer: string }> {
    const mixer = await this.ensureMixer();
    const id = randomUUID();
    const offerCodecs = media.find((m) => m.kind === 'video')?.codecs ?? [];
    const pc = createPeer(this.ctx.network, [codecs.vp8(), codecs.h264()], [codecs.opus()]);
    const pub = new Publisher(id, grants.identity, grants.displayName, pc, plan.video, plan.audio, offerCodecs, this.ctx.publisherTimeoutMs, childLogger(this.logger, { participant: id, identity: grants.identity }), source, this.ctx.connectTimeoutMs);
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
    // who this replaces is looked up now, after the awaits (the one there was before them may be gone, or another came)
    const previous = this.findPublisher(grants.identity, source);
    this.arrive(grants.identity, grants.displayName); // before the replaced session departs: no leave/join flicker
    // every camera publisher has a tile (a placeholder with the name when it sends no video); a screen share only with
    // video. A replacing session takes the replaced one's tile, in its place, before that one closes.
    mixer.addSource({ id, identity: grants.identity, displayName: grants.displayName, kind: source, codec: plan.video, requestKeyframe: () => pub.requestKeyframe() }, previous?.id);
    if (previous) previous.close('replaced');
    this.publishers.set(id, pub);
    const participant = { identity: grants.identity };
    const tracks = [
      ...(plan.video ? [{ kind: 'video' as const, source: source === 'screen' ? ('screen' as const) : ('camera' as const), codec: plan.video }] : []),
      ...(plan.audio ? [{ kind: 'audio' as const, source: source === 'screen' ? ('screen_audio' as const) : ('microphone' as const), codec: 'opus' }] : []),
    ];
    for (const track of tracks) this.emitEvent({ type: 'trackPublished', participant, track });
    if (plan.audio) mixer.addAudio(id, grants.identity);
    pub.on('video', (f) => this.mixer?.pushVideo(id, f));
    pub.on('audio', (p) => this.mixer?.pushAudio(id, p));
    pub.once('closed', (reason) => {
      this.publishers.delete(id);
      this.mixer?.removeSource(id);
      this.mixer?.removeAudio(id);
      this.refreshVariants();
      this.log(`publisher ${grants.identity} (${id}, ${source}) left: ${reason}`, { participant: id, identity: grants.identity });
      for (const { kind, source: s } of tracks) this.emitEvent({ type: 'trackUnpublished', participant, track: { kind, source: s }, reason });
      this.depart(grants.identity, reason);
      this.scheduleIdle();
    });
    this.refreshVariants();
    this.log(`publisher ${grants.identity} (${id}, ${source}) joined: video=${plan.video ?? 'none'} audio=${plan.audio}`, { participant: id, identity: grants.identity });
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
      logger: childLogger(this.logger, { participant: id, identity: grants.identity }),
      hidden: grants.hidden === true,
      ladder: this.ladder,
      renditions: mixer.renditions,
      audioKbps: this.options.audioBitrateKbps,
      twcc: answersTransportCc(answer),
      connectTimeoutMs: this.ctx.connectTimeoutMs,
    });
    sub.on('qualityChanged', (q) =>
      this.emitEvent({ type: 'subscriberQualityChanged', participant: { identity: grants.identity }, subscriberId: id, rendition: q.rendition, previous: q.previous, estimateKbps: q.estimateKbps, reason: q.reason }),
    );
    sub.on('switched', () => this.emit('changed'));
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
      this.log(`subscriber ${grants.identity} (${id}) left: ${reason}`, { participant: id, identity: grants.identity });
      this.scheduleIdle();
    });
    this.updateOutputKeyframes();
    sub.variant = this.mixer?.audio.variantFor(grants.identity) ?? MIX_ALL;
    this.mixer?.audio.acquire(sub.variant);
    this.log(`subscriber ${grants.identity} (${id}) joined: video=${plan.video} audio=${plan.audio} mix=${sub.variant}`, { participant: id, identity: grants.identity });
    return { id, answer };
  }

  /** An in-process tap on the mix (a recorder inside the server); like a hidden subscriber, without WebRTC. */
  async tap(o: { video: boolean }): Promise<MixTap> {
    if (this.closed) throw new NotFoundError(`room "${this.name}" was deleted`);
    const mixer = await this.ensureMixer();
    if (this.closed) throw new RoomClosedError(this.name); // the taps of a closed room would never end
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

  /** What a participant says about its microphone and camera (events `trackMuted`/`trackUnmuted`, shown in the views). */
  setMuted(identity: string, m: { audio?: boolean; video?: boolean }): void {
    const pub = this.findPublisher(identity, 'camera');
    if (!pub) throw new NotFoundError(`"${identity}" publishes no camera or microphone in room "${this.name}"`);
    for (const kind of ['audio', 'video'] as const) {
      const muted = m[kind];
      if (muted === undefined || pub.muted[kind] === muted) continue;
      pub.muted[kind] = muted;
      this.emitEvent({ type: muted ? 'trackMuted' : 'trackUnmuted', participant: { identity }, track: { kind, source: kind === 'audio' ? 'microphone' : 'camera' } });
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

  /** Every session with its owner (hidden ones included), for the main thread's view of the room. */
  sessions(): SessionView[] {
    return [
      ...[...this.publishers.values()].map((p) => ({ kind: 'publisher' as const, id: p.id, identity: p.identity, hidden: false })),
      ...[...this.subscribers.values()].map((s) => ({ kind: 'subscriber' as const, id: s.id, identity: s.identity, hidden: s.hidden })),
    ];
  }

  get tapCount(): number {
    return this.taps.size;
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
