import { performance } from 'node:perf_hooks';
import * as dgram from 'node:dgram';
import {
  TokenBucketQueue,
  parseCandidates,
  pickServerCandidate,
  rewriteCandidates,
  seededRandom,
  externalIpv4,
  startShapedLink,
} from './shaped-link';

/** Offer `count` packets of `bytes` every `everyMs` from t=0 and poll every ms; returns delivery times per packet. */
function run(q: TokenBucketQueue<number>, count: number, bytes: number, everyMs: number, untilMs: number): Map<number, number> {
  const delivered = new Map<number, number>();
  let sent = 0;
  for (let t = 0; t <= untilMs; t++) {
    while (sent < count && sent * everyMs <= t) q.offer(sent, bytes, sent++ * everyMs);
    for (const id of q.poll(t)) delivered.set(id, t);
  }
  return delivered;
}

describe('TokenBucketQueue', () => {
  it('passes traffic under the rate untouched and without delay', () => {
    const q = new TokenBucketQueue<number>({ rateKbps: 1000 });
    // 100 x 1000 B every 10 ms = 800 kbps < 1000 kbps.
    const d = run(q, 100, 1000, 10, 1100);
    expect(d.size).toBe(100);
    for (const [id, at] of d) expect(at).toBe(id * 10);
    expect(q.stats()).toMatchObject({ offeredPackets: 100, forwardedPackets: 100, forwardedBytes: 100000, droppedQueuePackets: 0 });
  });

  it('serializes a burst at the rate: a 1200 B packet takes 24 ms at 400 kbps', () => {
    const q = new TokenBucketQueue<number>({ rateKbps: 400, burstBytes: 1200 });
    for (let i = 0; i < 5; i++) expect(q.offer(i, 1200, 0)).toBe('queued');
    expect(q.poll(0)).toEqual([0]); // the full bucket lets one through at once
    expect(q.nextEventAt()).toBeCloseTo(24, 6);
    expect(q.poll(23.9)).toEqual([]);
    expect(q.poll(24)).toEqual([1]);
    expect(q.poll(100)).toEqual([2, 3, 4]); // a late poll catches up: 48, 72, 96
    expect(q.stats().maxQueueDelayMs).toBeCloseTo(96, 6);
  });

  it('drops at the tail once the queue holds queueMs of data, and the output rate is the link rate', () => {
    const q = new TokenBucketQueue<number>({ rateKbps: 400, queueMs: 250 });
    // Offer 1200 B every 6 ms (1600 kbps) for 2 s: 4x the link.
    const d = run(q, 334, 1200, 6, 4000);
    const s = q.stats();
    expect(s.offeredPackets).toBe(334);
    expect(s.droppedQueuePackets + s.forwardedPackets).toBe(334);
    // 2 s at 400 kbps = 100 kB, plus the queue (12.5 kB) that drains afterwards, plus the first burst.
    expect(s.forwardedBytes).toBeGreaterThan(100000);
    expect(s.forwardedBytes).toBeLessThanOrEqual(100000 + 12500 + 1500 + 1200);
    expect(s.maxQueueDelayMs).toBeLessThanOrEqual(250 + 24);
    expect(s.maxQueueDelayMs).toBeGreaterThan(200);
    // Steady state: deliveries 24 ms apart.
    const times = [...d.values()].sort((a, b) => a - b);
    expect(times[60] - times[59]).toBe(24);
  });

  it('always accepts a packet into an empty queue, even when the limit is below one packet', () => {
    const q = new TokenBucketQueue<number>({ rateKbps: 8, queueMs: 100, burstBytes: 0 }); // limit 100 B
    expect(q.offer(1, 1200, 0)).toBe('queued');
    expect(q.offer(2, 1200, 0)).toBe('dropped-queue');
    expect(q.poll(1199)).toEqual([]);
    expect(q.poll(1200)).toEqual([1]); // 1200 B at 1 B/ms
  });

  it('changes rate at run time from that moment on', () => {
    const q = new TokenBucketQueue<number>({ rateKbps: 80, burstBytes: 0, queueMs: 10000 }); // 10 B/ms
    q.offer(1, 1000, 0);
    q.offer(2, 1000, 0);
    expect(q.poll(100)).toEqual([1]);
    q.setRateKbps(800, 150); // half of packet 2 sent at 10 B/ms by 150; the rest at 100 B/ms: 5 ms
    expect(q.poll(154)).toEqual([]);
    expect(q.poll(155)).toEqual([2]);
    expect(q.rateKbps).toBe(800);
    expect(() => q.setRateKbps(0, 200)).toThrow(/rate/);
  });

  it('adds a fixed delay after the bottleneck', () => {
    const q = new TokenBucketQueue<number>({ rateKbps: Infinity, delayMs: 40 });
    q.offer(1, 1200, 10);
    q.offer(2, 1200, 10);
    expect(q.poll(49)).toEqual([]);
    expect(q.nextEventAt()).toBe(50);
    expect(q.poll(50)).toEqual([1, 2]);
    expect(q.stats().forwardedPackets).toBe(2);
  });

  it('loses packets at random with a seeded, repeatable RNG', () => {
    const losses = (seed: number) => {
      const q = new TokenBucketQueue<number>({ rateKbps: Infinity, lossPercent: 10, seed });
      const lost: number[] = [];
      for (let i = 0; i < 2000; i++) if (q.offer(i, 100, i) === 'dropped-loss') lost.push(i);
      return { lost, stats: q.stats() };
    };
    const a = losses(42);
    expect(a.lost).toEqual(losses(42).lost);
    expect(a.lost).not.toEqual(losses(43).lost);
    expect(a.stats.droppedLossPackets).toBe(a.lost.length);
    expect(a.lost.length).toBeGreaterThan(150);
    expect(a.lost.length).toBeLessThan(250);
    expect(a.stats.droppedLossBytes).toBe(a.lost.length * 100);
    expect(a.stats.forwardedPackets).toBe(2000 - a.lost.length);
  });

  it('seededRandom is uniform enough and in [0, 1)', () => {
    const r = seededRandom(7);
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const x = r();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      sum += x;
    }
    expect(sum / 10000).toBeCloseTo(0.5, 1);
  });
});

const OFFER = [
  'v=0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=candidate:626da4e5 1 udp 2116026367 127.0.0.1 43189 typ host generation 0 ufrag 8a8c',
  'a=candidate:32b1715d 1 udp 2116026367 192.0.2.2 45300 typ host generation 0 ufrag 8a8c',
  'a=candidate:1 1 tcp 1518280447 192.0.2.2 9 typ host tcptype active',
  'a=candidate:2 1 udp 2122262783 fe80::1 50000 typ host',
  'a=candidate:3 1 UDP 1686052607 203.0.113.9 61000 typ srflx raddr 192.0.2.2 rport 45300 generation 0',
  'a=end-of-candidates',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=candidate:3 1 UDP 1686052607 203.0.113.9 61000 typ srflx raddr 192.0.2.2 rport 45300 generation 0',
  'a=candidate:x 1 udp 2113937151 7c0e1b2a-1111.local 52000 typ host generation 0 network-cost 999',
  '',
].join('\r\n');

describe('SDP candidate rewriting', () => {
  it('points one UDP candidate per component and media section at the relay', () => {
    const out = rewriteCandidates(OFFER, { address: '127.0.0.1', port: 5000 });
    const lines = out.split('\r\n').filter((l) => l.startsWith('a=candidate'));
    expect(lines).toEqual([
      'a=candidate:626da4e5 1 udp 2116026367 127.0.0.1 5000 typ host generation 0 ufrag 8a8c',
      'a=candidate:3 1 UDP 1686052607 127.0.0.1 5000 typ host generation 0',
    ]);
    expect(out).toContain('a=end-of-candidates\r\nm=audio');
    expect(out.endsWith('\r\n')).toBe(true);
    expect(parseCandidates(out).every((c) => c.address === '127.0.0.1' && c.port === 5000)).toBe(true);
  });

  it('keeps an mDNS-only (Chromium) section usable and drops IPv6/TCP', () => {
    const sdp = 'v=0\nm=audio 9 X 111\na=candidate:x 1 udp 2113937151 ab.local 52000 typ host\na=candidate:y 1 udp 1 ::1 5 typ host\n';
    expect(rewriteCandidates(sdp, { address: '192.0.2.2', port: 7 })).toBe(
      'v=0\nm=audio 9 X 111\na=candidate:x 1 udp 2113937151 192.0.2.2 7 typ host\n',
    );
  });

  it('refuses an SDP without a UDP candidate', () => {
    expect(() => rewriteCandidates('v=0\nm=video 9 X 96\na=candidate:1 1 tcp 1 1.2.3.4 9 typ host\n', { address: 'a', port: 1 })).toThrow(
      /no UDP candidate/,
    );
  });

  it('picks the server address from the answer, loopback or not', () => {
    expect(pickServerCandidate(OFFER, true)).toEqual({ address: '127.0.0.1', port: 43189 });
    expect(pickServerCandidate(OFFER, false)).toEqual({ address: '192.0.2.2', port: 45300 });
    expect(pickServerCandidate('v=0\n', true)).toBeUndefined();
  });
});

describe('startShapedLink (UDP)', () => {
  const bindUdp = (address: string) =>
    new Promise<dgram.Socket>((r) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, address, () => r(s));
    });
  const closeUdp = (s: dgram.Socket) => new Promise<void>((r) => s.close(() => r()));

  it('bound to 0.0.0.0 (for Chromium) announces the external IPv4 and relays over it', async () => {
    let ip: string;
    try {
      ip = externalIpv4();
    } catch {
      return console.log('skipped: no external IPv4 interface');
    }
    const link = await startShapedLink({ bindAddress: '0.0.0.0' });
    expect(link.viewerFacing.address).toBe(ip);
    expect(link.serverFacing.address).toBe(ip);
    const answer = 'v=0\nm=video 9 X 96\na=candidate:1 1 udp 2 127.0.0.1 4000 typ host\n';
    expect(link.sdpTransform.answer(answer)).toContain(`a=candidate:1 1 udp 2 ${ip} ${link.viewerFacing.port} typ host`);
    const [viewer, server] = await Promise.all([bindUdp(ip), bindUdp(ip)]);
    link.setServer({ address: ip, port: server.address().port });
    const atViewer = new Promise<string>((r) => viewer.once('message', (m) => r(m.toString())));
    server.once('message', (m, rinfo) => server.send(Buffer.from(`re:${m}`), rinfo.port, rinfo.address));
    viewer.send('ping', link.viewerFacing.port, ip);
    expect(await atViewer).toBe('re:ping');
    await link.close();
    await Promise.all([viewer, server].map(closeUdp));
  });

  it('relays both ways, shapes only the downlink, and closes its sockets', async () => {
    const [viewer, server] = await Promise.all([bindUdp('127.0.0.1'), bindUdp('127.0.0.1')]);
    const link = await startShapedLink({ rateKbps: 400, server: { address: '127.0.0.1', port: server.address().port } });
    const got: { server: number[]; viewer: number[] } = { server: [], viewer: [] };
    let t0 = 0;
    server.on('message', (m, rinfo) => {
      got.server.push(m.length);
      expect(rinfo.port).toBe(link.serverFacing.port);
      // Answer with 10 x 1200 B at once: 240 ms at 400 kbps (first one rides the bucket).
      t0 = performance.now();
      for (let i = 0; i < 10; i++) server.send(Buffer.alloc(1200, i + 1), rinfo.port, rinfo.address);
    });
    const arrivals: number[] = [];
    viewer.on('message', (m) => {
      got.viewer.push(m[0]);
      arrivals.push(performance.now() - t0);
    });
    viewer.send(Buffer.from('hello'), link.viewerFacing.port, '127.0.0.1');
    const deadline = performance.now() + 3000;
    while (got.viewer.length < 10 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(got.server).toEqual([5]);
    expect(got.viewer).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // 9 packets after the first at 24 ms each: ~216 ms (timers may be a little late, never early).
    expect(arrivals[9]).toBeGreaterThan(200);
    expect(arrivals[9]).toBeLessThan(400);
    const s = link.stats();
    expect(s).toMatchObject({ uplinkPackets: 1, uplinkBytes: 5, viewer: { address: '127.0.0.1', port: viewer.address().port } });
    expect(s.downlink).toMatchObject({ offeredPackets: 10, forwardedPackets: 10, droppedQueuePackets: 0 });
    await link.close();
    await Promise.all([viewer, server].map(closeUdp));
  });
});
