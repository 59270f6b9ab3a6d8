/**
 * A weak link for one viewer, without root: a UDP relay in the test process between a viewer (the werift WHEP
 * subscriber or a Chromium page) and the server, shaping the downlink (server -> viewer) through a TokenBucketQueue.
 *
 *   viewer <--> [viewerFacing socket] relay [serverFacing socket] <--> server
 *                       ^ downlink: token bucket, drop-tail queue, random loss, extra delay
 *                         uplink (STUN, DTLS, RTCP from the viewer): forwarded as is
 *
 * Signalling is rewritten so each side only knows the relay: every offer candidate becomes the serverFacing address
 * (the server sends to the relay) and every answer candidate the viewerFacing address (the viewer sends to the relay).
 * ICE still completes: each side's checks reach the other through the relay, from the address its SDP names.
 * STUN responses go back to whichever socket sent the matching request (by transaction id), so peers with several
 * host sockets do not get each other's answers; everything else from the server goes to the viewer's latest address.
 */
import * as dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { RTCPeerConnection } from 'werift';
import { TokenBucketQueue, type TokenBucketOptions, type TokenBucketStats } from './token-bucket';
import { answerResource, postOffer, signal, waitIceGatheringComplete } from './webrtc-peer';

export { TokenBucketQueue, seededRandom, type TokenBucketOptions, type TokenBucketStats } from './token-bucket';

// ---- SDP candidates (pure) --------------------------------------------------------------------------------------

export interface Endpoint {
  address: string;
  port: number;
}

export interface SdpCandidate extends Endpoint {
  foundation: string;
  component: number;
  transport: string;
  priority: number;
  type: string;
}

const CANDIDATE = /^a=candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+) typ (\S+)(.*)$/;
const isIpv4 = (a: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(a);

/** Every well-formed `a=candidate` line of an SDP, in order. */
export function parseCandidates(sdp: string): SdpCandidate[] {
  const out: SdpCandidate[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    const m = CANDIDATE.exec(line.trim());
    if (!m) continue;
    out.push({
      foundation: m[1],
      component: Number(m[2]),
      transport: m[3],
      priority: Number(m[4]),
      address: m[5],
      port: Number(m[6]),
      type: m[7],
    });
  }
  return out;
}

/**
 * Point every UDP candidate of `sdp` at `to`: same foundation, component, priority and extensions (generation, ufrag,
 * ...), address and port replaced, `typ host`, no raddr/rport. TCP, IPv6 and malformed candidates are dropped, and
 * so are repeats of a component within one media section (they would all name the same address now). mDNS host
 * names (Chromium's `*.local`) count as IPv4-or-unknown and are kept, since their address is replaced anyway.
 * Throws if no candidate is left (a trickle-only SDP cannot go through the relay).
 */
export function rewriteCandidates(sdp: string, to: Endpoint): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const out: string[] = [];
  let seen = new Set<number>();
  let kept = 0;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) seen = new Set<number>();
    if (!line.startsWith('a=candidate:')) {
      out.push(line);
      continue;
    }
    const m = CANDIDATE.exec(line.trim());
    if (!m || m[3].toLowerCase() !== 'udp' || m[5].includes(':') || seen.has(Number(m[2]))) continue;
    seen.add(Number(m[2]));
    const ext = m[8].trim().split(/\s+/).filter(Boolean);
    const keptExt: string[] = [];
    for (let i = 0; i + 1 < ext.length; i += 2) {
      if (ext[i] !== 'raddr' && ext[i] !== 'rport') keptExt.push(ext[i], ext[i + 1]);
    }
    out.push(
      [`a=candidate:${m[1]}`, m[2], m[3], m[4], to.address, String(to.port), 'typ', 'host', ...keptExt].join(' '),
    );
    kept++;
  }
  if (kept === 0) throw new Error('rewriteCandidates: the SDP has no UDP candidate to rewrite (trickle ICE?)');
  return out.join(eol);
}

/**
 * The server address the relay should forward to, from the server's answer: the highest-priority UDP IPv4
 * candidate, preferring loopback when `loopback` is true and a non-loopback address otherwise.
 */
export function pickServerCandidate(sdp: string, loopback: boolean): Endpoint | undefined {
  const udp = parseCandidates(sdp)
    .filter((c) => c.transport.toLowerCase() === 'udp' && isIpv4(c.address))
    .sort((a, b) => b.priority - a.priority);
  const best = udp.find((c) => c.address.startsWith('127.') === loopback) ?? udp[0];
  return best && { address: best.address, port: best.port };
}

export interface SdpTransform {
  offer?(sdp: string): string;
  answer?(sdp: string): string;
}

/**
 * signal() from webrtc-peer with the offer rewritten before the POST and the answer before it is applied (the same
 * non-trickle WHIP/WHEP exchange; without a transform it is signal() itself).
 */
export async function signalWithSdpTransform(
  pc: RTCPeerConnection,
  endpoint: string,
  token: string,
  transform?: SdpTransform,
): Promise<string> {
  if (!transform) return signal(pc, endpoint, token);
  await pc.setLocalDescription(await pc.createOffer());
  await waitIceGatheringComplete(pc);
  const local = pc.localDescription?.sdp;
  if (!local) throw new Error('no local description after gathering');
  const offer = transform.offer ? transform.offer(local) : local;
  const res = await postOffer(endpoint, token, offer);
  const resourceUrl = answerResource(res);
  await pc.setRemoteDescription({ type: 'answer', sdp: transform.answer ? transform.answer(res.body) : res.body });
  return resourceUrl;
}

// ---- UDP adapter -------------------------------------------------------------------------------------------------

export interface ShapedLinkOptions extends Partial<TokenBucketOptions> {
  /** Downlink rate in kbps (default Infinity: no limit until setRateKbps). */
  rateKbps?: number;
  /** Address both sockets bind to (default '127.0.0.1'; '0.0.0.0' for Chromium, which ignores loopback candidates). */
  bindAddress?: string;
  /** Address written into the rewritten candidates (default: bindAddress, or the first external IPv4 for 0.0.0.0). */
  announceAddress?: string;
  /** The server's media address, if known before the answer (else learned from the answer or its first packet). */
  server?: Endpoint;
}

export interface ShapedLinkStats {
  /** The shaped server -> viewer direction. */
  downlink: TokenBucketStats;
  /** viewer -> server packets/bytes forwarded, and those dropped because the server was not known yet. */
  uplinkPackets: number;
  uplinkBytes: number;
  uplinkDroppedNoServer: number;
  /** Server packets dropped because no viewer address was known yet. */
  downlinkDroppedNoViewer: number;
  /** Packets at serverFacing from an address other than the server's (they are relayed like the server's). */
  strayServerPackets: number;
  server?: Endpoint;
  viewer?: Endpoint;
}

export interface ShapedLink {
  /** What the viewer sends to (the answer's candidates are rewritten to it). */
  readonly viewerFacing: Endpoint;
  /** What the server sends to (the offer's candidates are rewritten to it). */
  readonly serverFacing: Endpoint;
  /** For a subscriber's `sdpTransform` option: rewrites the offer and the answer, and learns the server. */
  readonly sdpTransform: Required<SdpTransform>;
  setServer(server: Endpoint): void;
  setRateKbps(kbps: number): void;
  setLossPercent(percent: number): void;
  setDelayMs(ms: number): void;
  stats(): ShapedLinkStats;
  close(): Promise<void>;
}

/** The first non-internal IPv4 address of this machine (for Chromium, which never uses loopback candidates). */
export function externalIpv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  throw new Error('externalIpv4: no non-loopback IPv4 interface');
}

function bindSocket(address: string): Promise<dgram.Socket> {
  return new Promise<dgram.Socket>((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.removeListener('error', reject);
      socket.on('error', () => undefined); // e.g. ICMP port unreachable after a peer closed
      resolve(socket);
    });
  });
}

/** STUN (RFC 5389): first two bits 0, magic cookie at byte 4. Returns the class and transaction id. */
function stunInfo(buf: Buffer): { request: boolean; response: boolean; txid: string } | undefined {
  if (buf.length < 20 || (buf[0] & 0xc0) !== 0 || buf.readUInt32BE(4) !== 0x2112a442) return undefined;
  const cls = buf.readUInt16BE(0) & 0x0110;
  return { request: cls === 0x0000, response: cls === 0x0100 || cls === 0x0110, txid: buf.toString('hex', 8, 20) };
}

const key = (e: Endpoint): string => `${e.address}:${e.port}`;

export async function startShapedLink(opts: ShapedLinkOptions = {}): Promise<ShapedLink> {
  const bindAddress = opts.bindAddress ?? '127.0.0.1';
  const announce = opts.announceAddress ?? (bindAddress === '0.0.0.0' ? externalIpv4() : bindAddress);
  const shaper = new TokenBucketQueue<{ buf: Buffer; to: Endpoint }>({ ...opts, rateKbps: opts.rateKbps ?? Infinity });
  const viewerSock = await bindSocket(bindAddress);
  const serverSock = await bindSocket(bindAddress).catch(async (err: unknown) => {
    await new Promise<void>((r) => viewerSock.close(() => r()));
    throw err;
  });
  const viewerFacing: Endpoint = { address: announce, port: viewerSock.address().port };
  const serverFacing: Endpoint = { address: announce, port: serverSock.address().port };

  let server: Endpoint | undefined = opts.server;
  let viewer: Endpoint | undefined;
  let viewerFromMedia = false; // viewer address seen on a non-STUN packet (the selected ICE pair)
  // STUN transaction id -> where the request came from, so the response goes back to that very socket.
  const fromViewer = new Map<string, Endpoint>();
  const fromServer = new Map<string, Endpoint>();
  const counters = { uplinkPackets: 0, uplinkBytes: 0, uplinkDroppedNoServer: 0, downlinkDroppedNoViewer: 0, strayServerPackets: 0 };
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  let closed = false;

  const remember = (map: Map<string, Endpoint>, txid: string, from: Endpoint): void => {
    if (map.size > 1000) map.clear(); // requests nobody answered
    map.set(txid, from);
  };

  const flush = (): void => {
    if (closed) return;
    const now = performance.now();
    for (const p of shaper.poll(now)) viewerSock.send(p.buf, p.to.port, p.to.address);
    const next = shaper.nextEventAt();
    if (next === undefined) return;
    if (timer && next >= timerAt) return; // an earlier wake-up is already set
    if (timer) clearTimeout(timer);
    timerAt = next;
    // setTimeout rounds down to whole ms and may be late: departures are computed exactly, so a late wake-up only
    // delivers a small burst, never a lower rate.
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      flush();
    }, Math.max(0, Math.ceil(next - now)));
  };

  viewerSock.on('message', (buf, rinfo) => {
    if (closed) return;
    const from = { address: rinfo.address, port: rinfo.port };
    const stun = stunInfo(buf);
    if (!stun) {
      viewer = from;
      viewerFromMedia = true;
    } else if (!viewerFromMedia) {
      viewer = from;
    }
    let to = server;
    if (stun?.request) remember(fromViewer, stun.txid, from);
    if (stun?.response) to = fromServer.get(stun.txid) ?? server;
    if (stun?.response) fromServer.delete(stun.txid);
    if (!to) {
      counters.uplinkDroppedNoServer++;
      return;
    }
    counters.uplinkPackets++;
    counters.uplinkBytes += buf.length;
    serverSock.send(buf, to.port, to.address);
  });

  serverSock.on('message', (buf, rinfo) => {
    if (closed) return;
    const from = { address: rinfo.address, port: rinfo.port };
    if (!server) server = from;
    else if (key(from) !== key(server)) counters.strayServerPackets++;
    const stun = stunInfo(buf);
    if (stun?.request) remember(fromServer, stun.txid, from);
    let to = viewer;
    if (stun?.response) {
      to = fromViewer.get(stun.txid) ?? viewer;
      fromViewer.delete(stun.txid);
    }
    if (!to) {
      counters.downlinkDroppedNoViewer++;
      return;
    }
    shaper.offer({ buf, to }, buf.length, performance.now());
    flush();
  });

  return {
    viewerFacing,
    serverFacing,
    sdpTransform: {
      offer: (sdp) => rewriteCandidates(sdp, serverFacing),
      answer(sdp) {
        if (!server) server = pickServerCandidate(sdp, announce.startsWith('127.'));
        return rewriteCandidates(sdp, viewerFacing);
      },
    },
    setServer(s) {
      server = { ...s };
    },
    setRateKbps(kbps) {
      shaper.setRateKbps(kbps, performance.now());
      flush();
    },
    setLossPercent: (p) => shaper.setLossPercent(p),
    setDelayMs: (ms) => shaper.setDelayMs(ms),
    stats: () => ({
      downlink: shaper.stats(),
      ...counters,
      server: server && { ...server },
      viewer: viewer && { ...viewer },
    }),
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      await Promise.all([viewerSock, serverSock].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
