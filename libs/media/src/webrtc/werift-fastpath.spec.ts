import { randomBytes } from 'node:crypto';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RTCDtlsTransport,
  RTCRtpSender,
  RTP_EXTENSION_URI,
  RtpHeader,
  RtpPacket,
  SrtpSession,
} from 'werift';
import { plainRtpPayload, protectRtp, sendRtpFast, type SrtpLocalContext } from './werift-fastpath';

const profiles = [
  { name: 'AES_CM_128_HMAC_SHA1_80', profile: ProtectionProfileAes128CmHmacSha1_80, saltLength: 14 },
  { name: 'AEAD_AES_128_GCM', profile: ProtectionProfileAeadAes128Gcm, saltLength: 12 },
] as const;

/** A sending and a receiving werift SRTP session with the same keys (as the two ends of one DTLS handshake have). */
function sessions(profile: number, saltLength: number) {
  const key = randomBytes(16);
  const salt = randomBytes(saltLength);
  const other = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const make = () =>
    new SrtpSession({ profile: profile as never, keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: other.key, remoteMasterSalt: other.salt } });
  const receiver = new SrtpSession({ profile: profile as never, keys: { localMasterKey: other.key, localMasterSalt: other.salt, remoteMasterKey: key, remoteMasterSalt: salt } });
  return { werift: make(), ours: make(), receiver };
}
const localContext = (s: SrtpSession) => s.localContext as unknown as SrtpLocalContext;

/** Sequence numbers across a wrap (the rollover counter goes to 1), with a few out of order around it. */
function sequence(): number[] {
  const seqs: number[] = [];
  for (let s = 65400; s < 65536; s++) seqs.push(s);
  seqs.push(65530, 65531);
  for (let s = 0; s < 300; s++) seqs.push(s);
  seqs.push(65535, 2, 1);
  for (let s = 300; s < 400; s++) seqs.push(s);
  return seqs;
}

describe.each(profiles)('protectRtp ($name)', ({ profile, saltLength }) => {
  it('makes what werift makes, byte for byte, across a rollover, and werift authenticates and decrypts it', () => {
    const { werift, ours, receiver } = sessions(profile, saltLength);
    const ssrc = 0x9abcdef0;
    let rolled = false;
    sequence().forEach((seq, i) => {
      const payload = randomBytes(1 + ((i * 97) % 1300)); // all lengths mod 16 and mod 4
      const header = new RtpHeader({ payloadType: 96, sequenceNumber: seq, timestamp: (i * 3000) >>> 0, ssrc, marker: i % 5 === 0 });
      if (i % 3 === 0) header.extensions = [{ id: 3, payload: Buffer.from([i & 0xff, 7]) }];
      const expected = werift.encrypt(payload, header);

      const hdr = header.serialize(header.serializeSize);
      // at an odd offset now and then: the word-wise XOR must fall back to bytes
      const out = Buffer.alloc(hdr.length + payload.length + 16 + 1).subarray(i % 2);
      hdr.copy(out);
      payload.copy(out, hdr.length);
      const len = protectRtp(localContext(ours), out, hdr.length, payload.length, ssrc, seq);
      expect(out.subarray(0, len).equals(expected)).toBe(true);

      const decrypted = RtpPacket.deSerialize(receiver.decrypt(out.subarray(0, len)));
      expect(decrypted.header.sequenceNumber).toBe(seq);
      expect(decrypted.payload.equals(payload)).toBe(true);
      if (localContext(ours).getSrtpSsrcState(ssrc).rolloverCounter === 1) rolled = true;
    });
    expect(rolled).toBe(true);
  });

  it('keeps one rollover counter with werift on a stream where both send', () => {
    const { werift, receiver } = sessions(profile, saltLength);
    const ssrc = 42;
    sequence().forEach((seq, i) => {
      const payload = randomBytes(200);
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: i * 960, ssrc });
      let wire: Buffer;
      if (i % 2) wire = werift.encrypt(payload, header);
      else {
        const hdr = header.serialize(header.serializeSize);
        const out = Buffer.alloc(hdr.length + payload.length + 16);
        hdr.copy(out);
        payload.copy(out, hdr.length);
        wire = out.subarray(0, protectRtp(localContext(werift), out, hdr.length, payload.length, ssrc, seq));
      }
      expect(RtpPacket.deSerialize(receiver.decrypt(wire)).payload.equals(payload)).toBe(true);
    });
  });
});

/** A werift RTCRtpSender on a stub transport that keeps what would go out on the socket. */
function stubSender(session: SrtpSession, extensions: Array<{ uri: string; id: number }>) {
  const wire: Buffer[] = [];
  const transport = Object.assign(Object.create(RTCDtlsTransport.prototype) as RTCDtlsTransport, {
    state: 'connected',
    transportSequenceNumber: 65530,
    bytesSent: 0,
    packetsSent: 0,
    config: {},
    srtp: session,
    iceTransport: { connection: { send: async (b: Buffer) => void wire.push(Buffer.from(b)) } },
  });
  const sender: RTCRtpSender = Object.assign(Object.create(RTCRtpSender.prototype) as object, {
    ssrc: 0x11223344,
    codec: { payloadType: 102 },
    mid: '0',
    headerExtensions: extensions,
    seqOffset: 0,
    timestampOffset: 0,
    octetCount: 0,
    headerBytesSent: 0,
    packetCount: 0,
    rtpCache: [],
    senderBWE: { rtpPacketSent: () => undefined },
    runRtcp: async () => undefined,
    dtlsTransport: transport,
  }) as unknown as RTCRtpSender;
  return { sender, transport, wire };
}

describe.each(profiles)('sendRtpFast ($name)', ({ profile, saltLength }) => {
  it.each([
    ['transport-wide-cc', [{ uri: RTP_EXTENSION_URI.transportWideCC, id: 3 }]],
    ['mid and transport-wide-cc, listed out of order', [{ uri: RTP_EXTENSION_URI.transportWideCC, id: 5 }, { uri: RTP_EXTENSION_URI.sdesMid, id: 1 }]],
    ['no extensions', []],
  ])('puts on the wire what RTCRtpSender.sendRtp does (%s)', async (_name, extensions) => {
    const { werift, ours, receiver } = sessions(profile, saltLength);
    const a = stubSender(werift, extensions);
    const b = stubSender(ours, extensions);
    for (const [i, seq] of sequence().entries()) {
      const payload = randomBytes(1 + ((i * 131) % 1250));
      const marker = i % 4 === 0;
      const ts = (0xfffff000 + i * 3000) >>> 0;
      await a.sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: 96, sequenceNumber: seq, timestamp: ts, marker }), payload));
      expect(sendRtpFast(b.sender, marker, seq, ts, payload)).toBe(b.wire[b.wire.length - 1]?.length);
      expect(b.wire[i].equals(a.wire[i])).toBe(true);
      const got = RtpPacket.deSerialize(receiver.decrypt(b.wire[i]));
      expect([got.header.ssrc, got.header.payloadType, got.header.sequenceNumber, got.header.timestamp, got.header.marker]).toEqual([0x11223344, 102, seq, ts, marker]);
    }
    const counters = (x: ReturnType<typeof stubSender>) => {
      const s = x.sender as unknown as Record<string, unknown>;
      return [s.sequenceNumber, s.timestamp, s.rtpTimestamp, s.packetCount, s.octetCount, s.headerBytesSent, x.transport.transportSequenceNumber, x.transport.bytesSent, x.transport.packetsSent];
    };
    expect(counters(b)).toEqual(counters(a));
    // the NTP time for sender reports: werift's, read when a report needs it
    const ntp = (b.sender as unknown as { ntpTimestamp: bigint }).ntpTimestamp;
    const ref = (a.sender as unknown as { ntpTimestamp: bigint }).ntpTimestamp;
    expect(typeof ntp).toBe('bigint');
    expect(Number((ntp >> 32n) - (ref >> 32n))).toBeLessThanOrEqual(1);
  });

  it('sends nothing when not connected, and leaves what it does not cover to werift', () => {
    const { ours } = sessions(profile, saltLength);
    const s = stubSender(ours, []);
    (s.transport as unknown as { state: string }).state = 'connecting';
    expect(sendRtpFast(s.sender, false, 1, 1, Buffer.alloc(10))).toBe(0);
    (s.transport as unknown as { state: string }).state = 'connected';
    (s.sender as unknown as { redRedundantPayloadType: number }).redRedundantPayloadType = 63;
    expect(sendRtpFast(s.sender, false, 1, 1, Buffer.alloc(10))).toBe(-1);
    expect(s.wire).toHaveLength(0);
  });
});

describe('plainRtpPayload', () => {
  it('is the payload of a packet with the plain header only', () => {
    const plain = new RtpPacket(new RtpHeader({ payloadType: 96, sequenceNumber: 1 }), Buffer.from([1, 2, 3])).serialize();
    expect(plainRtpPayload(plain)).toEqual(Buffer.from([1, 2, 3]));
    const withExt = new RtpHeader({ payloadType: 96, sequenceNumber: 1 });
    withExt.extensions = [{ id: 1, payload: Buffer.from([1]) }];
    expect(plainRtpPayload(new RtpPacket(withExt, Buffer.from([1])).serialize())).toBeUndefined();
    expect(plainRtpPayload(Buffer.alloc(5))).toBeUndefined();
  });
});
