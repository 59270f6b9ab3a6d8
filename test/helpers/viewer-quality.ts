/**
 * What a viewer experienced over the last N ms: decoded frame rate, the longest freeze, audio packets against the
 * 50/s Opus sends, video bitrate received, and the NACKs/PLIs it sent. Pure (times are passed in), so it is
 * unit-tested with made-up times; the WHEP subscriber feeds it with performance.now().
 */

/** Opus at 20 ms per packet. */
export const AUDIO_PACKETS_PER_SECOND = 50;

export interface ViewerQuality {
  /** The window actually measured: the asked one, or less if the recorder is younger. */
  windowMs: number;
  decodedFrames: number;
  decodedFps: number;
  /**
   * Longest time without a decoded frame inside the window, counting from the window start to the first frame and
   * from the last frame to now (a freeze still going on counts).
   */
  longestFreezeMs: number;
  audioPackets: number;
  /** 50/s over the window. */
  audioExpected: number;
  /** audioPackets / audioExpected (1 = all arrived; retransmissions or duplicates could push it over 1). */
  audioRatio: number;
  /** RTP bytes (header + payload) of the video track, and as kbit/s over the window. */
  videoBytes: number;
  videoKbps: number;
  videoPackets: number;
  /** RTCP NACK packets the viewer sent, and the sequence numbers they asked for (repeats counted). */
  nacksSent: number;
  nackedPackets: number;
  plisSent: number;
}

/** Times (and an optional value) of one kind of event, oldest first, forgetting what is older than `keepMs`. */
class EventLog {
  private times: number[] = [];
  private values: number[] = [];
  private head = 0;

  constructor(private readonly keepMs: number) {}

  add(at: number, value = 1): void {
    this.times.push(at);
    this.values.push(value);
    while (this.head < this.times.length && this.times[this.head] < at - this.keepMs) this.head++;
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }

  /** Index of the first event at or after `t`. */
  private firstAtOrAfter(t: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Count and value sum of the events in [from, to]. */
  sum(from: number, to: number): { count: number; total: number } {
    let count = 0;
    let total = 0;
    for (let i = this.firstAtOrAfter(from); i < this.times.length && this.times[i] <= to; i++) {
      count++;
      total += this.values[i];
    }
    return { count, total };
  }

  /** Longest gap between consecutive points of {from, events in [from, to], to}. */
  longestGap(from: number, to: number): number {
    let prev = from;
    let longest = 0;
    for (let i = this.firstAtOrAfter(from); i < this.times.length && this.times[i] <= to; i++) {
      longest = Math.max(longest, this.times[i] - prev);
      prev = this.times[i];
    }
    return Math.max(longest, to - prev);
  }
}

export class ViewerQualityRecorder {
  private readonly frames: EventLog;
  private readonly audio: EventLog;
  private readonly video: EventLog;
  private readonly nacks: EventLog;
  private readonly plis: EventLog;

  /** `startedAt`: no window reaches further back than this. `keepMs`: history kept (default 60 s). */
  constructor(
    private readonly startedAt: number,
    keepMs = 60000,
  ) {
    this.frames = new EventLog(keepMs);
    this.audio = new EventLog(keepMs);
    this.video = new EventLog(keepMs);
    this.nacks = new EventLog(keepMs);
    this.plis = new EventLog(keepMs);
  }

  frameDecoded(at: number): void {
    this.frames.add(at);
  }

  audioPacket(at: number): void {
    this.audio.add(at);
  }

  videoPacket(at: number, bytes: number): void {
    this.video.add(at, bytes);
  }

  nackSent(at: number, sequenceNumbers: number): void {
    this.nacks.add(at, sequenceNumbers);
  }

  pliSent(at: number): void {
    this.plis.add(at);
  }

  /** The last `windowMs` before `now`. */
  window(windowMs: number, now: number): ViewerQuality {
    const from = Math.max(this.startedAt, now - windowMs);
    const ms = Math.max(0, now - from);
    const sec = ms / 1000;
    const frames = this.frames.sum(from, now).count;
    const audio = this.audio.sum(from, now).count;
    const video = this.video.sum(from, now);
    const nacks = this.nacks.sum(from, now);
    const audioExpected = sec * AUDIO_PACKETS_PER_SECOND;
    return {
      windowMs: ms,
      decodedFrames: frames,
      decodedFps: sec > 0 ? frames / sec : 0,
      longestFreezeMs: this.frames.longestGap(from, now),
      audioPackets: audio,
      audioExpected,
      audioRatio: audioExpected > 0 ? audio / audioExpected : 0,
      videoBytes: video.total,
      videoKbps: sec > 0 ? (video.total * 8) / 1000 / sec : 0,
      videoPackets: video.count,
      nacksSent: nacks.count,
      nackedPackets: nacks.total,
      plisSent: this.plis.sum(from, now).count,
    };
  }
}
