/**
 * werift's DTLS handshake, fed its handshake messages in order and each once (RFC 6347 §4.2.2), so that reordered
 * datagrams and retransmitted flights no longer stall it.
 *
 * werift 0.24 handles every handshake record as it comes, as if it were new. Over a link that reorders (or on a
 * starved event loop, which bunches datagrams and timers), that goes wrong in several ways, each a stall for good:
 * - the server hashes the handshake for the extended master secret when the ClientKeyExchange arrives: if the
 *   client's Certificate is still on its way, the hash (so the keys) differ from the client's;
 * - a CertificateVerify before the Certificate throws ("client certificate missing"), failing the transport;
 * - a repeated ClientHello resets the server's random and key share after its Flight 4 went out; a repeated
 *   ServerHello makes the client build a new Flight 5 (a new pre-master secret); a repeated HelloVerifyRequest throws;
 * - an encrypted Finished that overtakes the key exchange cannot be decrypted and is dropped.
 * `scripts/werift-dtls-repro.js reorder` (two werift endpoints, WebRTC's settings, every datagram 1-800 ms late):
 * most handshakes stuck before this (5 of 6), none after.
 *
 * Each received handshake fragment goes through a HandshakeSequencer: handed on in message_seq order, a repeat
 * dropped. Two repeats must be answered and pass: a ClientHello while the server is still at its HelloVerifyRequest
 * (werift never retransmits that flight), and the client's Finished (the server then sends its lost Flight 6 again).
 * An encrypted Finished waits until the keys it needs exist. Everything else (application data, alerts,
 * ChangeCipherSpec) passes untouched.
 *
 * Installed by replacing the DtlsClient/DtlsServer exports of werift's modules with subclasses (werift's DTLS transport
 * reads them from the module objects at call time); when the files are not where werift 0.24 has them, nothing is
 * patched.
 */
import * as path from 'node:path';
import { HandshakeSequencer, type HandshakeUnit } from './dtls-handshake-sequencer';

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const FINISHED = 20;
/** Encrypted handshake records waiting for their keys, at most. */
const MAX_HELD = 4;

interface Plaintext {
  recordLayerHeader: { contentType: number; epoch: number };
  fragment: Buffer;
  serialize(): Buffer;
}
interface FragmentedHandshake {
  msg_type: number;
  message_seq: number;
  fragment_offset: number;
  fragment_length: number;
  length: number;
}
interface DtlsSocketLike {
  dtls: { flight: number };
  cipher: { decryptPacket(p: Plaintext): Buffer };
  transport: { socket: { onData: (data: Buffer, addr?: unknown) => void } };
}
type SocketClass = new (options: unknown) => DtlsSocketLike;

/** Repeats dropped and gaps skipped in this thread, over all sockets (for tests and the repro). */
export const orderStats = { repeats: 0, skipped: 0 };

/**
 * The handshake fragments of an unencrypted handshake record, each as a record of its own (the record's header with
 * the length of that one fragment), so that each can be handed on at its turn.
 */
export function splitHandshakeRecord(record: Buffer, parse: (b: Buffer) => FragmentedHandshake): HandshakeUnit[] {
  const units: HandshakeUnit[] = [];
  const body = record.subarray(13);
  let at = 0;
  while (body.length - at >= 12) {
    const h = parse(body.subarray(at));
    const size = 12 + h.fragment_length;
    if (at + size > body.length) break;
    const bytes = Buffer.alloc(13 + size);
    record.copy(bytes, 0, 0, 11);
    bytes.writeUInt16BE(size, 11);
    body.copy(bytes, 13, at, at + size);
    units.push({ type: h.msg_type, seq: h.message_seq, offset: h.fragment_offset, fragmentLength: h.fragment_length, length: h.length, bytes });
    at += size;
  }
  return units;
}

let installed: boolean | undefined;

/** Installs the ordering once per thread; returns whether it is in place. */
export function installDtlsHandshakeOrdering(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  try {
    const lib = path.join(path.resolve(path.dirname(require.resolve('werift')), '../..'), 'dtls/src');
    /* eslint-disable @typescript-eslint/no-require-imports */
    const receive = require(path.join(lib, 'record/receive.js')) as { parsePacket: (d: Buffer) => Plaintext[] };
    const fragment = require(path.join(lib, 'record/message/fragment.js')) as { FragmentedHandshake: { deSerialize: (b: Buffer) => FragmentedHandshake } };
    const client = require(path.join(lib, 'client.js')) as { DtlsClient: SocketClass };
    const server = require(path.join(lib, 'server.js')) as { DtlsServer: SocketClass };
    /* eslint-enable @typescript-eslint/no-require-imports */
    if (typeof receive.parsePacket !== 'function' || typeof fragment.FragmentedHandshake?.deSerialize !== 'function') return false;
    if (typeof client.DtlsClient !== 'function' || typeof server.DtlsServer !== 'function') return false;
    const parse = (b: Buffer) => fragment.FragmentedHandshake.deSerialize(b);

    const order = (socket: DtlsSocketLike, isServer: boolean): void => {
      const deliver = socket.transport.socket.onData;
      const seq = new HandshakeSequencer({
        answerAgain: (type) => isServer && ((type === CLIENT_HELLO && socket.dtls.flight <= 2) || type === FINISHED),
      });
      let held: Plaintext[] = [];
      const counted = { repeats: 0, skipped: 0 };
      /** The encrypted handshake record as a unit, once its keys exist (undefined before). */
      const decrypted = (r: Plaintext): HandshakeUnit | undefined => {
        let h: FragmentedHandshake;
        try {
          h = parse(socket.cipher.decryptPacket(r));
        } catch {
          return undefined;
        }
        return { type: h.msg_type, seq: h.message_seq, offset: 0, fragmentLength: h.length, length: h.length, bytes: r.serialize() };
      };
      const take = (units: HandshakeUnit[], out: Buffer[]) => {
        for (const u of units) for (const b of seq.receive(u, Date.now())) out.push(b.bytes);
      };
      const flush = (out: Buffer[], addr: unknown) => {
        if (out.length) deliver(out.length === 1 ? out[0] : Buffer.concat(out), addr);
        out.length = 0;
      };
      socket.transport.socket.onData = (data, addr) => {
        let records: Plaintext[];
        try {
          records = receive.parsePacket(data);
        } catch {
          return deliver(data, addr); // werift's own handling (and logging) of what it cannot parse
        }
        if (records.length === 0) return deliver(data, addr);
        const out: Buffer[] = [];
        for (const r of records) {
          const { contentType, epoch } = r.recordLayerHeader;
          if (contentType !== HANDSHAKE) {
            out.push(r.serialize());
          } else if (epoch === 0) {
            let units: HandshakeUnit[];
            try {
              units = splitHandshakeRecord(r.serialize(), parse);
            } catch {
              out.push(r.serialize());
              continue;
            }
            take(units, out);
          } else {
            const u = decrypted(r);
            if (u) take([u], out);
            else if (held.length < MAX_HELD) held.push(r);
          }
        }
        for (const b of seq.drain(Date.now())) out.push(b.bytes);
        flush(out, addr);
        // what the messages just handed on made decryptable (the server's keys come with the ClientKeyExchange)
        if (held.length) {
          const still: Plaintext[] = [];
          for (const r of held) {
            const u = decrypted(r);
            if (u) take([u], out);
            else still.push(r);
          }
          held = still;
          flush(out, addr);
        }
        orderStats.repeats += seq.stats.repeats - counted.repeats;
        orderStats.skipped += seq.stats.skipped - counted.skipped;
        counted.repeats = seq.stats.repeats;
        counted.skipped = seq.stats.skipped;
      };
    };
    const Client = client.DtlsClient;
    const Server = server.DtlsServer;
    client.DtlsClient = class extends Client {
      constructor(options: unknown) {
        super(options);
        order(this, false);
      }
    };
    server.DtlsServer = class extends Server {
      constructor(options: unknown) {
        super(options);
        order(this, true);
      }
    };
    installed = true;
  } catch {
    installed = false;
  }
  return installed;
}
