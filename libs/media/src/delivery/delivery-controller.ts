import type { TwccWindow } from './twcc-tracker';

/** A rung as the controller sees it: its name and the video bitrate it needs. */
export interface Rung {
  name: string;
  bitrateKbps: number;
  fps: number;
}

/** What a subscriber's link told us since the last update. */
export interface LinkSample {
  nowMs: number;
  /** Everything we sent it in the last second (media, padding, retransmissions), kbps. */
  sentKbps: number;
  /** From transport-wide feedback, when it sends any. */
  twcc?: TwccWindow;
  /** Fraction lost of the newest receiver report that arrived since the last sample. */
  rrLoss?: number;
  /** Packets it NACKed per packet sent, over the last second. */
  nackRate?: number;
  /** The receiver's estimate (REMB), kbps. */
  rembKbps?: number;
}

export interface Decision {
  /** The rendition it should get, or null: video paused (audio only). */
  rendition: string | null;
  /** While probing: the total rate to send (padding fills the gap). */
  probeKbps?: number;
  estimateKbps: number;
  /** Set when `rendition` changed: why. */
  reason?: string;
  /** A probe started or ended in this update (for logs, and to measure the link afresh). */
  probe?: { event: 'started' | 'succeeded' | 'failed'; targetKbps: number; why?: string };
}

export interface DeliveryControllerOptions {
  /** Best first. */
  ladder: readonly Rung[];
  audioKbps: number;
  /** The estimate before any feedback (default: 1000 kbps with transport-wide feedback, else what high needs). */
  initialKbps?: number;
  /** Use only this share of the estimate (headroom for bursts, keyframes and retransmissions). */
  headroom?: number;
  /** Time without congestion before probing for the next rung up, and between failed probes (doubling, capped). */
  stableMs?: number;
  maxBackoffMs?: number;
  /** Does the subscriber send transport-wide feedback? Without it, probes are judged by receiver reports (slower). */
  twcc: boolean;
}

/** Bytes on the wire per packet beyond its RTP payload: IP, UDP, SRTP tag, RTP header and extensions. */
const PACKET_OVERHEAD_BYTES = 50;
/** Loss above this (over enough packets) is congestion, not noise: GCC's loss-based controller draws the line at 10 %. */
const LOSS_CONGESTION = 0.1;
const MTU_PAYLOAD = 1100;

/** What a rendition costs on the wire (kbps), with its share of the audio. */
export function wireKbps(videoKbps: number, fps: number, audioKbps: number): number {
  const videoPackets = (videoKbps * 1000) / 8 / MTU_PAYLOAD + fps;
  const audioPackets = 50;
  return videoKbps + audioKbps + ((videoPackets + (audioKbps > 0 ? audioPackets : 0)) * PACKET_OVERHEAD_BYTES * 8) / 1000;
}

/**
 * Per-subscriber rendition choice from its bandwidth estimate (pure: time comes with each sample).
 * - Down fast: transport-wide feedback showing a growing queue or loss, or receiver reports / NACKs showing loss, cut
 *   the estimate to what got through; a rendition that no longer fits is left at once.
 * - Up carefully: only after `stableMs` without congestion, and only after a probe (padding up to the next rung's rate
 *   for a moment) got through; a failed probe doubles the wait (capped), so a weak link is not hammered.
 * - Audio first: below the lowest rung's need, video pauses; it resumes through a probe like any step up.
 */
export class DeliveryController {
  private estimate: number;
  private current: number; // index in ladder; ladder.length = paused
  private lastCongestionAt = -Infinity;
  /**
   * Loss reports describe the past (a receiver report covers the second before it): after a decrease, or a probe that
   * caused loss on purpose, they are not taken as news until this time.
   */
  private lossNewsAfter = 0;
  /** Not before the first update plus the backoff: a new subscriber settles before anything is tried. */
  private nextProbeAt?: number;
  private backoffMs: number;
  /**
   * A probe: padding up to `target` while staying on the current rung (with transport-wide feedback, which sees every
   * packet); or, without it, a trial: the next rung itself for a few seconds, judged by receiver reports and NACKs
   * (duplicates sent as padding would hide losses from those: a receiver counts them as received).
   */
  private probe?: { startedAt: number; target: number; rung: number; rrSeen: boolean; maxLoss: number; trialFrom?: number };
  private readonly need: number[];
  private readonly headroom: number;
  probesStarted = 0;

  constructor(private readonly o: DeliveryControllerOptions) {
    if (o.ladder.length === 0) throw new RangeError('empty ladder');
    this.need = o.ladder.map((r) => wireKbps(r.bitrateKbps, r.fps, o.audioKbps));
    this.headroom = o.headroom ?? 0.9;
    // With transport-wide feedback a subscriber starts below high and probes up within seconds; without it there is no
    // gentle way up (only trials), so it starts on high and its reports move it down if its link cannot take it.
    this.estimate = o.initialKbps ?? (o.twcc ? 1000 : this.need[0] / this.headroom);
    this.backoffMs = o.twcc ? this.stableMs : 2 * this.stableMs;
    this.current = this.bestFor(this.estimate);
  }

  private get stableMs(): number {
    return this.o.stableMs ?? 2000;
  }

  private get paused(): number {
    return this.o.ladder.length;
  }

  /** The best rung that fits `kbps` with headroom; paused if none. */
  private bestFor(kbps: number): number {
    const i = this.need.findIndex((n) => n <= kbps * this.headroom);
    return i < 0 ? this.paused : i;
  }

  get rendition(): string | null {
    return this.current === this.paused ? null : this.o.ladder[this.current].name;
  }

  get estimateKbps(): number {
    return Math.round(this.estimate);
  }

  update(s: LinkSample): Decision {
    const now = s.nowMs;
    this.nextProbeAt ??= now + this.backoffMs;
    const t = s.twcc;
    const queueing = t !== undefined && t.queueDelayMs > 100 && t.receivedKbps < 0.92 * t.sentKbps;
    // loss is noisy over few packets (3 % random loss often reads 5-9 % in a 200 ms window): judge it over enough of them
    const twccLoss = t !== undefined && t.packets >= 50 && t.loss > LOSS_CONGESTION;
    const loss = Math.max(s.rrLoss ?? 0, s.nackRate ?? 0);
    const lossy = loss > LOSS_CONGESTION;
    let reason: string | undefined;
    let probeEvent: Decision['probe'];
    const before = this.current;

    if (this.probe) {
      const p = this.probe;
      if (s.rrLoss !== undefined) p.rrSeen = true;
      p.maxLoss = Math.max(p.maxLoss, loss, t?.loss ?? 0);
      // cut short on a growing queue; on loss only when it is clearly more than random loss over enough packets
      const earlyFail = (t !== undefined && (t.queueDelayMs > 60 || (t.packets >= 50 && t.loss > 1.5 * LOSS_CONGESTION))) || lossy;
      const duration = this.o.twcc ? 1500 : 3000;
      if (earlyFail) {
        this.endProbe(now, false);
        if (p.trialFrom !== undefined) {
          this.current = p.trialFrom;
          reason = `trial of ${this.o.ladder[p.rung].name}: ${Math.round(loss * 100)}% lost`;
        }
        probeEvent = { event: 'failed', targetKbps: Math.round(p.target), why: t ? `queue ${Math.round(t.queueDelayMs)} ms, ${Math.round(t.loss * 100)}% lost` : `${Math.round(loss * 100)}% lost` };
      } else if (now - p.startedAt >= duration && (this.o.twcc || p.rrSeen)) {
        // with feedback, the window holds the probe's packets only (the caller measures afresh when a probe starts)
        const ok = this.o.twcc ? t !== undefined && t.receivedKbps >= 0.8 * p.target && t.loss < 0.08 : p.maxLoss < 0.05;
        this.endProbe(now, ok);
        probeEvent = { event: ok ? 'succeeded' : 'failed', targetKbps: Math.round(p.target), why: t ? `${Math.round(t.receivedKbps)} kbps received, ${Math.round(p.maxLoss * 100)}% lost at most` : `${Math.round(p.maxLoss * 100)}% lost at most` };
        if (ok) {
          this.estimate = Math.max(this.estimate, p.target);
          this.current = Math.min(this.current, p.rung);
          reason = `probe at ${Math.round(p.target)} kbps got through`;
        } else if (p.trialFrom !== undefined) {
          this.current = p.trialFrom;
          reason = `trial of ${this.o.ladder[p.rung].name}: ${Math.round(p.maxLoss * 100)}% lost`;
        }
      } else if (now - p.startedAt > duration + 3000) {
        this.endProbe(now, false); // no receiver report came: treat as failed
        if (p.trialFrom !== undefined) this.current = p.trialFrom;
        probeEvent = { event: 'failed', targetKbps: Math.round(p.target), why: 'no receiver report' };
      }
    } else {
      if (queueing || twccLoss) {
        const got = t!.receivedKbps;
        if (got * 0.85 < this.estimate) this.estimate = Math.max(got * 0.85, 30);
        this.lastCongestionAt = now;
        reason = twccLoss ? `transport feedback: ${Math.round(t!.loss * 100)}% lost` : `transport feedback: queue ${Math.round(t!.queueDelayMs)} ms, ${Math.round(got)} of ${Math.round(t!.sentKbps)} kbps got through`;
      }
      if (lossy && now >= this.lossNewsAfter) {
        const through = s.sentKbps * (1 - loss) * 0.9;
        this.lossNewsAfter = now + 1200;
        if (through < this.estimate) this.estimate = Math.max(through, 30);
        this.lastCongestionAt = now;
        reason ??= (s.rrLoss ?? 0) >= (s.nackRate ?? 0) ? `receiver reports ${Math.round(loss * 100)}% loss` : `${Math.round(loss * 100)}% of packets NACKed`;
      }
    }
    const effective = s.rembKbps !== undefined && s.rembKbps > 0 ? Math.min(this.estimate, s.rembKbps) : this.estimate;
    if (this.probe?.trialFrom === undefined && this.current < this.paused && this.need[this.current] > effective) {
      this.current = Math.max(this.current + 1, this.bestFor(effective));
      this.lossNewsAfter = Math.max(this.lossNewsAfter, now + 1200);
      reason ??= `receiver estimate ${Math.round(effective)} kbps`;
      if (this.probe) probeEvent = { event: 'failed', targetKbps: Math.round(this.probe.target), why: 'the current rendition no longer fits' };
      this.endProbe(now, false);
    }
    if (!this.probe && this.current > 0 && now >= this.nextProbeAt && now - this.lastCongestionAt >= this.stableMs) {
      const rung = this.current - 1;
      const target = this.need[rung] / this.headroom;
      if (s.rembKbps !== undefined && s.rembKbps > 0 && s.rembKbps < target) {
        this.nextProbeAt = now + this.stableMs; // the receiver says it cannot take more
      } else if (target <= this.estimate) {
        this.current = rung; // already known to fit (an earlier probe or the initial estimate)
        reason = `estimate ${Math.round(this.estimate)} kbps fits ${this.o.ladder[rung].name}`;
        this.nextProbeAt = now + this.stableMs;
      } else if (this.o.twcc) {
        this.probe = { startedAt: now, target, rung, rrSeen: false, maxLoss: 0 };
        this.probesStarted++;
        probeEvent = { event: 'started', targetKbps: Math.round(target) };
      } else {
        this.probe = { startedAt: now, target, rung, rrSeen: false, maxLoss: 0, trialFrom: this.current };
        this.probesStarted++;
        this.current = rung;
        reason = `trying ${this.o.ladder[rung].name} (no transport-wide feedback to probe with)`;
        probeEvent = { event: 'started', targetKbps: Math.round(target), why: 'a trial of the next rung' };
      }
    }
    return {
      rendition: this.rendition,
      ...(this.probe && this.probe.trialFrom === undefined ? { probeKbps: this.probe.target } : {}),
      estimateKbps: Math.round(effective),
      ...(this.current !== before ? { reason: reason ?? 'estimate changed' } : {}),
      ...(probeEvent ? { probe: probeEvent } : {}),
    };
  }

  private endProbe(now: number, ok: boolean): void {
    if (!this.probe) return;
    this.probe = undefined;
    this.lossNewsAfter = Math.max(this.lossNewsAfter, now + (this.o.twcc ? 600 : 1500));
    if (ok) {
      this.backoffMs = this.o.twcc ? this.stableMs : 2 * this.stableMs;
      this.nextProbeAt = now + this.stableMs;
    } else {
      this.lastCongestionAt = now;
      this.nextProbeAt = now + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs ?? (this.o.twcc ? 8000 : 32_000));
    }
  }
}
