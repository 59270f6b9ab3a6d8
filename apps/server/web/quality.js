// The connection quality indicator: what the server reports for this subscriber (its rendition of the mix and its
// downlink estimate: subscriberQualityChanged events, the snapshot) and what the browser measures (getStats: packets
// lost, jitter), in one word and a line of detail.

/** good | fair | poor, from the rendition received and the measured loss and jitter. */
export function qualityLevel({ rendition, reduced = false, lossPct = 0, jitterMs = 0 }) {
  if (rendition === null || lossPct >= 5 || jitterMs >= 100) return 'poor';
  if (reduced || (rendition && rendition !== 'high') || lossPct >= 1 || jitterMs >= 30) return 'fair';
  return 'good';
}

export class QualityIndicator {
  constructor(el) {
    this.el = el;
    this.server = undefined;
    this.measured = null;
    this.timer = undefined;
  }

  /** The server's report for this subscriber: {rendition (null: video paused), estimateKbps}. */
  setServer(q) {
    this.server = q;
    this.render();
  }

  /** Measures the WHEP connection every 2 s; `video` tells the decoded size, `canvas()` the mix's full size. */
  watch(pc, video, canvas) {
    this.stop();
    let last = null;
    this.timer = setInterval(async () => {
      let lost = 0;
      let received = 0;
      let jitter = 0;
      try {
        (await pc.getStats()).forEach((s) => {
          if (s.type !== 'inbound-rtp') return;
          lost += s.packetsLost ?? 0;
          received += s.packetsReceived ?? 0;
          if (s.kind === 'video') jitter = s.jitter ?? 0;
        });
      } catch {
        return;
      }
      if (last) {
        const dl = Math.max(0, lost - last.lost);
        const dr = Math.max(0, received - last.received);
        const c = canvas();
        this.measured = {
          lossPct: dl + dr ? (100 * dl) / (dl + dr) : 0,
          jitterMs: jitter * 1000,
          width: video.videoWidth,
          height: video.videoHeight,
          reduced: Boolean(video.videoWidth && c && video.videoWidth < c.width),
        };
        this.render();
      }
      last = { lost, received };
    }, 2000);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  render() {
    const m = this.measured;
    const s = this.server;
    const level = qualityLevel({ rendition: s ? s.rendition : undefined, reduced: m?.reduced, lossPct: m?.lossPct, jitterMs: m?.jitterMs });
    const parts = [];
    if (s && s.rendition === null) parts.push('video paused for your connection, sound continues');
    else if (s?.rendition) parts.push(`receiving ${s.rendition}${m?.width ? ` (${m.width}×${m.height})` : ''}`);
    else if (m?.width) parts.push(`receiving ${m.width}×${m.height}`);
    if (s?.estimateKbps) parts.push(`about ${s.estimateKbps >= 1000 ? `${(s.estimateKbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(s.estimateKbps)} kbit/s`} available`);
    if (m) parts.push(`${m.lossPct.toFixed(1)} % lost`, `jitter ${Math.round(m.jitterMs)} ms`);
    this.el.className = `quality ${level}`;
    this.el.dataset.level = level;
    this.el.querySelector('.level').textContent = `Connection: ${level}`;
    this.el.querySelector('.detail').textContent = parts.join(' · ');
  }
}
