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
const SERVER_HELLO_DONE = 14;
/** Encrypted handshake records waiting for their keys, at most. */
const MAX_HELD = 4;

/** werift's parsed record (DtlsPlaintext), only passed from its parser to its cipher. */
type Plaintext = object;
interface DtlsSocketLike {
  dtls: { flight: number; lastMessage?: Buffer[] };
  cipher: { decryptPacket(p: Plaintext): Buffer };
  transport: { send(buf: Buffer): unknown; socket: { onData: (data: Buffer, addr?: unknown) => void } };
}
type SocketClass = new (options: unknown) => DtlsSocketLike;

/** Repeats dropped and gaps skipped in this thread, over all sockets (for tests and the repro). */
export const orderStats = { repeats: 0, skipped: 0 };

/** A record's bounds in a datagram and what its 13-byte header says (RFC 6347 §4.1); undefined when malformed. */
export function recordsOf(data: Buffer): Array<{ contentType: number; epoch: number; start: number; end: number }> | undefined {
  const out: Array<{ contentType: number; epoch: number; start: number; end: number }> = [];
  for (let at = 0; at < data.length; ) {
    if (data.length - at < 13) return undefined;
    const end = at + 13 + data.readUInt16BE(at + 11);
    if (end > data.length) return undefined;
    out.push({ contentType: data[at], epoch: data.readUInt16BE(at + 3), start: at, end });
    at = end;
  }
  return out;
}

/** A handshake message header (12 bytes, RFC 6347 §4.2.2) at `at`. */
function handshakeHeader(b: Buffer, at = 0) {
  return { type: b[at], length: b.readUIntBE(at + 1, 3), seq: b.readUInt16BE(at + 4), offset: b.readUIntBE(at + 6, 3), fragmentLength: b.readUIntBE(at + 9, 3) };
}

/**
 * The handshake fragments of an unencrypted handshake record, each as a record of its own (the record's header with
 * the length of that one fragment), so that each can be handed on at its turn. A record holding one fragment is
 * its own unit (no copy).
 */
export function splitHandshakeRecord(record: Buffer): HandshakeUnit[] {
  const units: HandshakeUnit[] = [];
  const body = record.subarray(13);
  for (let at = 0; body.length - at >= 12; ) {
    const h = handshakeHeader(body, at);
    const size = 12 + h.fragmentLength;
    if (at + size > body.length) break;
    let bytes = record;
    if (size !== body.length) {
      bytes = Buffer.alloc(13 + size);
      record.copy(bytes, 0, 0, 11);
      bytes.writeUInt16BE(size, 11);
      body.copy(bytes, 13, at, at + size);
    }
    units.push({ ...h, bytes });
    at += size;
  }
  return units;
}

let installed: boolean | undefined;

/** Installs the ordering once per thread; returns whether it is in place. */
export function installDtlsHandshakeOrdering(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  // MCU_DTLS_ORDERING=off: werift as it is (to compare, or should a client ever disagree with the ordering)
  if (process.env.MCU_DTLS_ORDERING === 'off') return false;
  try {
    const lib = path.join(path.resolve(path.dirname(require.resolve('werift')), '../..'), 'dtls/src');
    /* eslint-disable @typescript-eslint/no-require-imports */
    const receive = require(path.join(lib, 'record/receive.js')) as { parsePacket: (d: Buffer) => Plaintext[] };
    const client = require(path.join(lib, 'client.js')) as { DtlsClient: SocketClass };
    const server = require(path.join(lib, 'server.js')) as { DtlsServer: SocketClass };
    /* eslint-enable @typescript-eslint/no-require-imports */
    if (typeof receive.parsePacket !== 'function' || typeof client.DtlsClient !== 'function' || typeof server.DtlsServer !== 'function') return false;

    const order = (socket: DtlsSocketLike, isServer: boolean): void => {
      const deliver = socket.transport.socket.onData;
      // A repeated flight means the peer has not had our answer to it (RFC 6347 §4.2.4): our last flight goes again at
      // once, as werift did when it (wrongly) handled the repeat as new; its own timers would wait 0.5 s, 1 s, ...
      const sendLastFlightAgain = () => {
        for (const b of socket.dtls.lastMessage ?? []) Promise.resolve(socket.transport.send(b)).catch(() => undefined);
      };
      const seq = new HandshakeSequencer({
        answerAgain: (type) => isServer && ((type === CLIENT_HELLO && socket.dtls.flight <= 2) || type === FINISHED),
        onRepeat: (u) => {
          // the client has sent Flight 5 and sees Flight 4 again (its ServerHelloDone ends it); the server has sent
          // Flight 4 and sees the ClientHello with the cookie again
          if (!isServer && u.type === SERVER_HELLO_DONE && socket.dtls.flight === 5) sendLastFlightAgain();
          else if (isServer && u.type === CLIENT_HELLO && u.seq >= 1 && socket.dtls.flight === 4) sendLastFlightAgain();
        },
        stats: orderStats,
      });
      let held: Buffer[] = [];
      /** An encrypted handshake record (the Finished) as a unit, once its keys exist (undefined before). */
      const decrypted = (record: Buffer): HandshakeUnit | undefined => {
        try {
          const h = handshakeHeader(socket.cipher.decryptPacket(receive.parsePacket(record)[0]));
          return { ...h, offset: 0, fragmentLength: h.length, bytes: record };
        } catch {
          return undefined;
        }
      };
      /** Hands `units` to the sequencer; what it releases goes to `out`. Whether that was exactly `units`, in order. */
      const take = (units: HandshakeUnit[], out: Buffer[]): boolean => {
        let same = true;
        let k = 0;
        for (const u of units) {
          for (const r of seq.receive(u, Date.now())) {
            if (r !== units[k++]) same = false;
            out.push(r.bytes);
          }
        }
        return same && k === units.length;
      };
      const flush = (out: Buffer[], addr: unknown) => {
        if (out.length) deliver(out.length === 1 ? out[0] : Buffer.concat(out), addr);
        out.length = 0;
      };
      socket.transport.socket.onData = (data, addr) => {
        const records = recordsOf(data);
        if (!records || !records.some((r) => r.contentType === HANDSHAKE)) return deliver(data, addr); // werift's as ever
        const out: Buffer[] = [];
        let unchanged = true; // every record handed on as it came, nothing else: the datagram itself goes on
        for (const r of records) {
          const record = data.subarray(r.start, r.end);
          if (r.contentType !== HANDSHAKE) {
            out.push(record);
          } else if (r.epoch === 0) {
            const units = splitHandshakeRecord(record);
            if (units.length === 0) out.push(record);
            else if (!take(units, out) || units.length > 1) unchanged = false;
          } else {
            const u = decrypted(record);
            if (u) unchanged = take([u], out) && unchanged;
            else {
              unchanged = false;
              if (held.length < MAX_HELD) held.push(Buffer.from(record));
            }
          }
        }
        const late = seq.drain(Date.now());
        for (const b of late) out.push(b.bytes);
        if (unchanged && late.length === 0) deliver(data, addr);
        else flush(out, addr);
        // what the messages just handed on made decryptable (the server's keys come with the ClientKeyExchange)
        if (held.length) {
          const still: Buffer[] = [];
          for (const record of held) {
            const u = decrypted(record);
            if (u) take([u], out);
            else still.push(record);
          }
          held = still;
          flush(out, addr);
        }
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
