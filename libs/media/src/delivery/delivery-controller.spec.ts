import { DeliveryController, type LinkSample, wireKbps } from './delivery-controller';

const ladder = [
  { name: 'high', bitrateKbps: 1500, fps: 30 },
  { name: 'medium', bitrateKbps: 500, fps: 30 },
  { name: 'low', bitrateKbps: 150, fps: 20 },
];
const AUDIO = 48;
const need = (r: string | null) => (r === null ? wireKbps(0, 0, AUDIO) : wireKbps(ladder.find((l) => l.name === r)!.bitrateKbps, ladder.find((l) => l.name === r)!.fps, AUDIO));

/**
 * A fluid model of a bottleneck: a token bucket at `capacity(t)` kbps with a 250 ms drop-tail queue and optional random
 * loss, fed with what the controller's choice costs (plus probe padding). Feedback as a receiver would send it.
 */
function simulate(o: { capacity: (t: number) => number; seconds: number; twcc: boolean; randomLoss?: number; remb?: number }) {
  const c = new DeliveryController({ ladder, audioKbps: AUDIO, twcc: o.twcc });
  const dt = 200;
  let queue = 0; // kbit
  const trace: Array<{ t: number; rendition: string | null; sent: number; dropped: number; estimate: number }> = [];
  let lossAcc = 0;
  let sentAcc = 0;
  let decision = c.update({ nowMs: 0, sentKbps: 0 });
  for (let t = dt; t <= o.seconds * 1000; t += dt) {
    const cap = o.capacity(t);
    const media = need(decision.rendition);
    const rate = Math.max(media, decision.probeKbps ?? 0);
    queue += ((rate - cap) * dt) / 1000;
    let dropped = 0;
    const maxQueue = cap * 0.25;
    if (queue > maxQueue) {
      dropped = queue - maxQueue;
      queue = maxQueue;
    }
    if (queue < 0) queue = 0;
    const sentKbit = (rate * dt) / 1000;
    const random = o.randomLoss ?? 0;
    const loss = Math.min(1, dropped / sentKbit + random);
    lossAcc += loss * sentKbit;
    sentAcc += sentKbit;
    const received = rate * (1 - loss);
    const sample: LinkSample = { nowMs: t, sentKbps: rate, rembKbps: o.remb };
    if (o.twcc) sample.twcc = { sentKbps: rate, receivedKbps: queue > 0 ? Math.min(cap, received) : received, loss, queueDelayMs: (queue / cap) * 1000, packets: 50 };
    if (t % 1000 === 0) {
      sample.rrLoss = lossAcc / sentAcc;
      lossAcc = 0;
      sentAcc = 0;
    }
    sample.nackRate = loss;
    decision = c.update(sample);
    trace.push({ t, rendition: decision.rendition, sent: sentKbit, dropped: dropped + random * sentKbit, estimate: decision.estimateKbps });
  }
  const between = (a: number, b: number) => trace.filter((x) => x.t > a * 1000 && x.t <= b * 1000);
  const dropShare = (a: number, b: number) => {
    const w = between(a, b);
    return w.reduce((s, x) => s + x.dropped, 0) / w.reduce((s, x) => s + x.sent, 0);
  };
  const firstAt = (r: string | null, after = 0) => trace.find((x) => x.t > after * 1000 && x.rendition === r)?.t;
  return { trace, between, dropShare, firstAt, controller: c };
}

describe('DeliveryController', () => {
  it('costs: a rung needs its bitrate plus audio and packet overhead', () => {
    expect(need('high')).toBeGreaterThan(1500 + AUDIO);
    expect(need('low')).toBeLessThan(300);
    expect(need(null)).toBeLessThan(100);
  });

  it('behind 400 kbps (transport-wide feedback): on low within 2 s, stays there, probes cost almost nothing', () => {
    const s = simulate({ capacity: () => 400, seconds: 40, twcc: true });
    expect(s.firstAt('low')).toBeLessThanOrEqual(2000);
    const settled = s.between(10, 40);
    expect(settled.filter((x) => x.rendition === 'low').length / settled.length).toBeGreaterThan(0.97);
    expect(s.dropShare(10, 40)).toBeLessThan(0.05);
    expect(s.controller.probesStarted).toBeGreaterThan(1); // it kept trying, carefully
  });

  it('a good link gets high within a few seconds and keeps it', () => {
    const s = simulate({ capacity: () => 4000, seconds: 20, twcc: true });
    expect(s.firstAt('high')).toBeLessThanOrEqual(6000);
    expect(s.between(6, 20).every((x) => x.rendition === 'high')).toBe(true);
  });

  it('after the link recovers from 400 to 4000 kbps it is back on high within 20 s', () => {
    const s = simulate({ capacity: (t) => (t < 30_000 ? 400 : 4000), seconds: 60, twcc: true });
    expect(s.between(10, 30).every((x) => x.rendition === 'low' || x.rendition === 'medium')).toBe(true);
    expect(s.firstAt('high', 30)! - 30_000).toBeLessThanOrEqual(20_000);
  });

  it('goes down within 2 s of a drop from 4000 to 400 kbps', () => {
    const s = simulate({ capacity: (t) => (t < 15_000 ? 4000 : 400), seconds: 25, twcc: true });
    expect(s.between(8, 14.8).every((x) => x.rendition === 'high')).toBe(true);
    expect(s.firstAt('low', 15)! - 15_000).toBeLessThanOrEqual(2000);
  });

  it('at 150 kbps pauses video (audio only) and does not flap', () => {
    const s = simulate({ capacity: () => 150, seconds: 30, twcc: true });
    const settled = s.between(5, 30);
    expect(settled.filter((x) => x.rendition === null).length / settled.length).toBeGreaterThan(0.95);
    expect(need(null)).toBeLessThan(150);
  });

  it('without transport-wide feedback, receiver reports and NACKs still move it down', () => {
    const s = simulate({ capacity: () => 400, seconds: 40, twcc: false });
    expect(s.firstAt('low')).toBeLessThanOrEqual(3000);
    const settled = s.between(10, 40);
    expect(settled.filter((x) => x.rendition === 'low').length / settled.length).toBeGreaterThan(0.8);
  });

  it('3 % random loss on a good link is not congestion: it stays on high', () => {
    const s = simulate({ capacity: () => 4000, seconds: 30, twcc: true, randomLoss: 0.03 });
    expect(s.between(8, 30).every((x) => x.rendition === 'high')).toBe(true);
  });

  it('without transport-wide feedback a subscriber starts on high (nothing to probe with), with it below', () => {
    expect(new DeliveryController({ ladder, audioKbps: AUDIO, twcc: false }).rendition).toBe('high');
    expect(new DeliveryController({ ladder, audioKbps: AUDIO, twcc: true }).rendition).toBe('medium');
    const s = simulate({ capacity: () => 4000, seconds: 20, twcc: false });
    expect(s.trace.every((x) => x.rendition === 'high')).toBe(true);
  });

  it("the receiver's REMB caps the choice", () => {
    const s = simulate({ capacity: () => 4000, seconds: 20, twcc: false, remb: 700 });
    expect(s.trace.every((x) => x.rendition !== 'high')).toBe(true);
    expect(s.between(5, 20).every((x) => x.rendition === 'medium')).toBe(true);
  });
});
