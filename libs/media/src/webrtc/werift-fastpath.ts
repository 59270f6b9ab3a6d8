/**
 * A faster send path for RTP through werift (0.24.x), for the fan-out of the mix to viewers (issue 12).
 *
 * Sending one packet of the mix to one viewer through werift's own path cost ~30 µs of the server's main thread: our
 * Subscriber parsed the shared encoder packet into an RtpPacket for every viewer (RtpPacket.deSerialize, ~5 µs), then
 * RTCRtpSender.sendRtp computed an NTP time through a string split, rebuilt and sorted the header extensions, stored the
 * packet in its NACK cache (which ours keeps empty) and fed its own send-side BWE (which nothing reads), the SRTP
 * context serialized the header with a bit writer and created a cipher object (AES-CTR, or AES-GCM) for every packet,
 * then Buffer.concat'ed header, payload and tag, and three async layers led to the UDP socket.
 *
 * `sendRtpFast` does the same on the wire with less: it writes the outgoing header (the sender's SSRC and payload type,
 * its sequence number and timestamp, the negotiated header extensions, in werift's one-byte form and order) straight
 * into the output buffer, copies the payload behind it and protects it in place:
 *  - AES_CM_128_HMAC_SHA1_80: the keystream comes from one AES-128-ECB cipher per SRTP context, kept for the session
 *    (counter blocks built in a reused buffer: the same bytes AES-CTR would encrypt, RFC 3711 4.1.1), XORed in 32-bit
 *    words; the HMAC-SHA1 tag from SHA-1 states of the key's inner and outer pads computed once (Hash.copy()).
 *  - AEAD_AES_128_GCM: Node cannot re-key a GCM cipher with a new IV, so a cipher is still made per packet, but the
 *    IV is written directly and the output goes into the one buffer.
 * The rollover counter is werift's own state (Context.updateRolloverCount on the same per-SSRC entry), so packets sent
 * by werift's path and by this one can be mixed on a stream. The sender's counters that werift keeps (sequence number,
 * timestamp, packet and octet counts for its sender reports, the transport-wide sequence number, the transport's byte
 * and packet counts) are kept as werift keeps them; the NTP time of the last packet (for sender reports) is computed
 * only when a report reads it.
 *
 * Not done here, on purpose: werift's NACK cache (ours answers NACKs: disableWeriftRetransmissions) and its send-side
 * BWE (our Subscriber estimates from transport-wide feedback itself): its samples are not fed, and its parsing of each
 * transport-wide feedback into per-packet results is switched off on a sender this path has sent on. What this path does not cover — RED,
 * werift's debug packet loss, extensions that do not fit the one-byte form, an SRTP profile other than these two —
 * returns false, and the caller sends through werift as before.
 *
 * `protectRtp` is the protection on its own; the unit test checks it byte for byte against werift's ciphers (both
 * profiles, across a sequence number wrap) and that werift's receiving side authenticates and decrypts what it makes.
 */
import { createCipheriv, createHash, type Cipher, type Hash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RTP_EXTENSION_URI,
  serializeAbsSendTime,
  serializeRepairedRtpStreamId,
  serializeSdesMid,
  serializeSdesRTPStreamID,
  type RTCRtpSender,
} from 'werift';

interface SsrcState {
  rolloverCounter: number;
  lastSequenceNumber: number;
}
/** What this module uses of werift's SRTP context (its Context class: plain fields and methods). */
export interface SrtpLocalContext {
  profile: number;
  srtpSessionKey: Buffer;
  srtpSessionSalt: Buffer;
  srtpSessionAuthTag: Buffer;
  getSrtpSsrcState(ssrc: number): SsrcState;
  updateRolloverCount(sequenceNumber: number, s: SsrcState): void;
}
type Ctx = SrtpLocalContext;

/**
 * Per-context state for the AES-CM profile: the session's ECB cipher, the SHA-1 state of the HMAC key's inner pad (a
 * Node Hash, copied per packet) and the chaining value after its outer pad (five words: the outer hash is a single
 * SHA-1 block, compressed here in JS, which saves a Hash object per packet).
 */
interface CmState {
  ecb: Cipher;
  inner: Hash;
  outer: Int32Array;
}
const cmStates = new WeakMap<Ctx, CmState>();

const AUTH_TAG_CM = 10;
const AUTH_TAG_GCM = 16;
const MAX_PAYLOAD = 4096;

// Counter blocks for the keystream: 16 bytes each, the IV in bytes 0-13 and the block index in 14-15 (the IV's own
// bytes 14-15 are always 0: the salt is 14 bytes and the index sits in bytes 12-13, RFC 3711 4.1.1).
const BLOCKS = MAX_PAYLOAD / 16 + 1;
const counterBytes = new Uint8Array(BLOCKS * 16);
const counter32 = new Uint32Array(counterBytes.buffer);
const counter16 = new Uint16Array(counterBytes.buffer);
for (let b = 0; b < BLOCKS; b++) {
  counterBytes[b * 16 + 14] = b >> 8;
  counterBytes[b * 16 + 15] = b & 0xff;
}
const ivBytes = new Uint8Array(16);
const iv32 = new Uint32Array(ivBytes.buffer);
const iv16 = new Uint16Array(ivBytes.buffer);
const ivView = Buffer.from(ivBytes.buffer);
const rocBuf = Buffer.alloc(4);

const SHA1_INIT = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0];
const shaW = new Int32Array(80);
/** One SHA-1 compression (FIPS 180-4 6.1.2) of the block in shaW[0..15] into the chaining value h. */
function sha1Compress(h: Int32Array): void {
  const w = shaW;
  for (let t = 16; t < 80; t++) {
    const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
    w[t] = (x << 1) | (x >>> 31);
  }
  let a = h[0];
  let b = h[1];
  let c = h[2];
  let d = h[3];
  let e = h[4];
  for (let t = 0; t < 80; t++) {
    let f: number;
    let k: number;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc | 0;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6 | 0;
    }
    const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = temp;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + b) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
}
const outerH = new Int32Array(5);

function cmState(ctx: Ctx): CmState {
  let s = cmStates.get(ctx);
  if (!s) {
    const ecb = createCipheriv('aes-128-ecb', ctx.srtpSessionKey, null);
    ecb.setAutoPadding(false);
    const key = Buffer.alloc(64);
    ctx.srtpSessionAuthTag.copy(key);
    const pad = (x: number) => Buffer.from(key.map((b) => b ^ x));
    const outer = new Int32Array(SHA1_INIT);
    const opad = pad(0x5c);
    for (let i = 0; i < 16; i++) shaW[i] = opad.readInt32BE(i * 4);
    sha1Compress(outer);
    s = { ecb, inner: createHash('sha1').update(pad(0x36)), outer };
    cmStates.set(ctx, s);
  }
  return s;
}

/** The RFC 3711 IV (CM) or the RFC 7714 IV (GCM, first 12 bytes) into ivBytes. */
function writeIv(salt: Buffer, ssrc: number, roc: number, seq: number, gcm: boolean): void {
  ivBytes.fill(0);
  if (gcm) {
    // 00 00 | SSRC | ROC | SEQ, XOR salt (12 bytes)
    ivView.writeUInt32BE(ssrc >>> 0, 2);
    ivView.writeUInt32BE(roc >>> 0, 6);
    ivView.writeUInt16BE(seq, 10);
    for (let i = 0; i < 12; i++) ivBytes[i] ^= salt[i];
  } else {
    // 00 00 00 00 | SSRC | ROC | SEQ 00 00, XOR salt (14 bytes)
    ivView.writeUInt32BE(ssrc >>> 0, 4);
    ivView.writeUInt32BE(roc >>> 0, 8);
    ivView.writeUInt16BE(seq, 12);
    for (let i = 0; i < 14; i++) ivBytes[i] ^= salt[i];
  }
}

/**
 * Protects an RTP packet in place: `out` holds the header in [0, headerLength) and the payload in [headerLength,
 * headerLength + payloadLength), with room for the tag behind it. Updates the context's rollover counter for the
 * packet's SSRC. Returns the SRTP packet's length, or -1 if this context's profile is not handled here.
 */
export function protectRtp(ctx: Ctx, out: Buffer, headerLength: number, payloadLength: number, ssrc: number, seq: number): number {
  const gcm = ctx.profile === ProtectionProfileAeadAes128Gcm;
  if (!gcm && ctx.profile !== ProtectionProfileAes128CmHmacSha1_80) return -1;
  if (payloadLength > MAX_PAYLOAD) return -1;
  const st = ctx.getSrtpSsrcState(ssrc);
  ctx.updateRolloverCount(seq, st);
  const roc = st.rolloverCounter;
  const end = headerLength + payloadLength;
  if (gcm) {
    writeIv(ctx.srtpSessionSalt, ssrc, roc, seq, true);
    const cipher = createCipheriv('aes-128-gcm', ctx.srtpSessionKey, ivView.subarray(0, 12));
    cipher.setAAD(out.subarray(0, headerLength));
    const enc = cipher.update(out.subarray(headerLength, end));
    cipher.final();
    enc.copy(out, headerLength);
    cipher.getAuthTag().copy(out, end);
    return end + AUTH_TAG_GCM;
  }
  const s = cmState(ctx);
  writeIv(ctx.srtpSessionSalt, ssrc, roc, seq, false);
  const blocks = (payloadLength + 15) >> 4;
  const a = iv32[0];
  const b = iv32[1];
  const c = iv32[2];
  const d = iv16[6];
  for (let k = 0; k < blocks; k++) {
    const o = k << 2;
    counter32[o] = a;
    counter32[o + 1] = b;
    counter32[o + 2] = c;
    counter16[(k << 3) + 6] = d;
  }
  const ks = s.ecb.update(Buffer.from(counterBytes.buffer, 0, blocks << 4));
  let i = 0;
  const start = out.byteOffset + headerLength;
  if ((start & 3) === 0 && (ks.byteOffset & 3) === 0) {
    const words = payloadLength >> 2;
    const o32 = new Uint32Array(out.buffer, start, words);
    const k32 = new Uint32Array(ks.buffer, ks.byteOffset, words);
    for (let w = 0; w < words; w++) o32[w] ^= k32[w];
    i = words << 2;
  }
  for (; i < payloadLength; i++) out[headerLength + i] ^= ks[i];
  rocBuf.writeUInt32BE(roc >>> 0, 0);
  const inner = s.inner.copy().update(out.subarray(0, end)).update(rocBuf).digest();
  // outer: SHA-1 of (opad || inner), the pad's block already compressed: one block of the 20-byte digest, the 0x80 end
  // marker, zeros and the message's bit length (64 + 20 bytes)
  const w = shaW;
  for (let i = 0; i < 5; i++) w[i] = inner.readInt32BE(i * 4);
  w[5] = 0x80000000 | 0;
  w.fill(0, 6, 15);
  w[15] = (64 + 20) * 8;
  outerH.set(s.outer);
  sha1Compress(outerH);
  out.writeInt32BE(outerH[0], end);
  out.writeInt32BE(outerH[1], end + 4);
  out.writeUInt16BE((outerH[2] >>> 16) & 0xffff, end + 8);
  return end + AUTH_TAG_CM;
}

// ---------------------------------------------------------------------------------------------------------- sending

/** werift's sender and transport fields this path reads and keeps up to date (as its own sendRtp does). */
interface SenderInternals {
  ssrc: number;
  codec?: { payloadType: number };
  mid?: string;
  rtpStreamId?: string;
  repairedRtpStreamId?: string;
  headerExtensions: Array<{ uri: string; id: number }>;
  redRedundantPayloadType?: number;
  seqOffset: number;
  timestampOffset: number;
  sequenceNumber?: number;
  timestamp?: number;
  rtpTimestamp?: number;
  octetCount: number;
  headerBytesSent: number;
  packetCount: number;
  runRtcp(): Promise<void>;
  dtlsTransport: {
    state: string;
    transportSequenceNumber: number;
    bytesSent: number;
    packetsSent: number;
    config?: { debug?: { outboundPacketLoss?: number } };
    srtp?: { localContext?: Ctx };
    iceTransport: { connection: { send(data: Buffer): Promise<void> } };
  };
}

const noop = () => undefined;

/** NTP time of a performance.now() instant, as werift's ntpTime() computes it for now. */
function ntpAt(t: number): bigint {
  const now = performance.timeOrigin + t - Date.UTC(1900, 0, 1);
  const [sec, frac] = (now / 1000).toString().split('.').map(Number);
  const b = Buffer.alloc(8);
  b.writeUInt32BE(sec >>> 0, 0);
  b.writeUInt32BE((frac ?? 0) >>> 0, 4);
  return b.readBigUInt64BE();
}

/** The sender's last-packet NTP time, computed when read (by its sender reports) instead of for every packet. */
interface LazyNtp {
  at?: number;
  value?: bigint;
}
const lazyNtp = new WeakMap<object, LazyNtp>();
function noteSentAt(sender: object, t: number): void {
  let l = lazyNtp.get(sender);
  if (!l) {
    // werift's send-side BWE is not fed by this path (and nothing reads it): stop it parsing transport-wide feedback
    const bwe = (sender as { senderBWE?: { receiveTWCC?: unknown } }).senderBWE;
    if (bwe) bwe.receiveTWCC = noop;
    const state: LazyNtp = { value: (sender as { ntpTimestamp?: bigint }).ntpTimestamp };
    l = state;
    lazyNtp.set(sender, state);
    Object.defineProperty(sender, 'ntpTimestamp', {
      configurable: true,
      enumerable: true,
      get: () => {
        if (state.at !== undefined) {
          state.value = ntpAt(state.at);
          state.at = undefined;
        }
        return state.value;
      },
      set: (v: bigint) => {
        state.value = v;
        state.at = undefined;
      },
    });
  }
  l.at = t;
}

const senderSorted = new WeakMap<object, { from: unknown; list: Array<{ uri: string; id: number }> }>();
function sortedExtensions(s: SenderInternals): Array<{ uri: string; id: number }> {
  const c = senderSorted.get(s);
  if (c && c.from === s.headerExtensions) return c.list;
  const list = [...s.headerExtensions].sort((a, b) => a.id - b.id);
  senderSorted.set(s, { from: s.headerExtensions, list });
  return list;
}

/**
 * Sends one RTP packet on `sender` as werift's RTCRtpSender.sendRtp would (its SSRC, payload type, sequence number
 * and timestamp offsets, negotiated header extensions, SRTP), without building RtpPacket objects. `payload` is shared
 * and only read. Returns the SRTP packet's length, 0 when werift would have dropped it (not connected), or -1 when
 * this path does not cover the sender's setup: then send through werift.
 */
export function sendRtpFast(sender: RTCRtpSender, marker: boolean, sequenceNumber: number, timestamp: number, payload: Buffer): number {
  const s = sender as unknown as SenderInternals;
  const t = s.dtlsTransport;
  if (!t || t.state !== 'connected' || !s.codec) return 0;
  const ctx = t.srtp?.localContext;
  if (!ctx || s.redRedundantPayloadType || t.config?.debug?.outboundPacketLoss) return -1;
  if (ctx.profile !== ProtectionProfileAeadAes128Gcm && ctx.profile !== ProtectionProfileAes128CmHmacSha1_80) return -1;
  if (payload.length > MAX_PAYLOAD) return -1;

  const seq = (sequenceNumber + s.seqOffset) & 0xffff;
  const ts = (timestamp + s.timestampOffset) >>> 0;
  const exts = sortedExtensions(s);
  // the extensions' payloads, as werift computes them (the transport-wide number written below)
  let extBytes = 0;
  let extPayloads: Array<Buffer | undefined> | undefined;
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i];
    let p: Buffer | undefined;
    switch (e.uri) {
      case RTP_EXTENSION_URI.transportWideCC:
        extBytes += 3;
        continue;
      case RTP_EXTENSION_URI.sdesMid:
        p = s.mid ? serializeSdesMid(s.mid) : undefined;
        break;
      case RTP_EXTENSION_URI.sdesRTPStreamID:
        p = s.rtpStreamId ? serializeSdesRTPStreamID(s.rtpStreamId) : undefined;
        break;
      case RTP_EXTENSION_URI.repairedRtpStreamId:
        p = s.repairedRtpStreamId ? serializeRepairedRtpStreamId(s.repairedRtpStreamId) : undefined;
        break;
      case RTP_EXTENSION_URI.absSendTime:
        extBytes += 4;
        continue;
      default:
        continue;
    }
    if (!p) continue;
    if (e.id < 1 || e.id > 14 || p.length < 1 || p.length > 16) return -1; // werift would write these, badly or two-byte
    (extPayloads ??= new Array<Buffer | undefined>(exts.length))[i] = p;
    extBytes += 1 + p.length;
  }
  for (const e of exts) if ((e.uri === RTP_EXTENSION_URI.transportWideCC || e.uri === RTP_EXTENSION_URI.absSendTime) && (e.id < 1 || e.id > 14)) return -1;
  const extBlock = extBytes > 0 ? 4 + ((extBytes + 3) & ~3) : 0;
  const headerLength = 12 + extBlock;
  const tag = ctx.profile === ProtectionProfileAeadAes128Gcm ? AUTH_TAG_GCM : AUTH_TAG_CM;
  const out = Buffer.allocUnsafe(headerLength + payload.length + tag);

  const now = performance.now();
  out[0] = extBlock ? 0x90 : 0x80;
  out[1] = (marker ? 0x80 : 0) | (s.codec.payloadType & 0x7f);
  out.writeUInt16BE(seq, 2);
  out.writeUInt32BE(ts, 4);
  out.writeUInt32BE(s.ssrc >>> 0, 8);
  if (extBlock) {
    out.writeUInt16BE(0xbede, 12);
    out.writeUInt16BE((extBlock - 4) >> 2, 14);
    let o = 16;
    for (let i = 0; i < exts.length; i++) {
      const e = exts[i];
      if (e.uri === RTP_EXTENSION_URI.transportWideCC) {
        t.transportSequenceNumber = (t.transportSequenceNumber + 1) & 0xffff;
        out[o++] = (e.id << 4) | 1;
        out.writeUInt16BE(t.transportSequenceNumber, o);
        o += 2;
      } else if (e.uri === RTP_EXTENSION_URI.absSendTime) {
        const p = serializeAbsSendTime(ntpAt(now));
        out[o++] = (e.id << 4) | (p.length - 1);
        p.copy(out, o);
        o += p.length;
      } else {
        const p = extPayloads?.[i];
        if (!p) continue;
        out[o++] = (e.id << 4) | (p.length - 1);
        p.copy(out, o);
        o += p.length;
      }
    }
    out.fill(0, o, headerLength);
  }
  payload.copy(out, headerLength);
  const len = protectRtp(ctx, out, headerLength, payload.length, s.ssrc, seq);
  if (len < 0) return -1; // (profile checked above)

  s.timestamp = ts;
  s.sequenceNumber = seq;
  s.rtpTimestamp = ts;
  noteSentAt(sender, now);
  s.octetCount += payload.length;
  s.headerBytesSent += headerLength;
  s.packetCount = (s.packetCount + 1) >>> 0;
  t.bytesSent += len;
  t.packetsSent++;
  t.iceTransport.connection.send(len === out.length ? out : out.subarray(0, len)).catch(noop);
  void s.runRtcp();
  return len;
}

/**
 * The payload of an RTP packet with the plain 12-byte header (no CSRCs, extension or padding: what our encoders
 * packetize), as a view of it; undefined for any other packet (send that one through werift).
 */
export function plainRtpPayload(packet: Buffer): Buffer | undefined {
  if (packet.length < 12 || (packet[0] & 0xff) !== 0x80) return undefined; // V=2, P=0, X=0, CC=0
  return packet.subarray(12);
}
