/**
 * X25519 for werift's DTLS handshakes with Node's native crypto instead of tweetnacl (pure JavaScript).
 *
 * A CPU profile of a join burst in a room worker showed each DTLS handshake spending ~35 ms in
 * `nacl.box.keyPair` and ~40 ms in `nacl.scalarMult` (werift 0.24: `dtls/src/cipher/namedCurve.js`
 * `generateKeyPair` and `prf.js` `prfPreMasterSecret`), on the thread that also runs the room's mixer clock: six
 * joins froze the room's picture for ~0.5 s. OpenSSL does both in well under a millisecond. The results are the
 * same function (RFC 7748 X25519: a random private scalar, its public point, and the shared secret), so the wire
 * format and the keys werift stores do not change; P-256 stays werift's own.
 *
 * werift's package `exports` hide these modules, so they are reached by path beside its resolved entry; their callers
 * read the functions from the module objects at call time (`(0, mod.fn)(...)`), so replacing the exports works.
 * If the files are not where werift 0.24 has them, nothing is patched (and the log says so).
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import * as path from 'node:path';

const X25519_CURVE = 29; // NamedCurveAlgorithm.x25519_29
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export function x25519KeyPair(): { privateKey: Buffer; publicKey: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    privateKey: Buffer.from(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32)),
    publicKey: Buffer.from(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)),
  };
}

export function x25519SharedSecret(privateKey: Buffer, publicKey: Buffer): Buffer {
  return diffieHellman({
    privateKey: createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' }),
  });
}

type KeyPairFn = (curve: number) => { curve: number; privateKey: Buffer; publicKey: Buffer };
type PreMasterFn = (publicKey: Buffer, privateKey: Buffer, curve: number) => Buffer;

let installed: boolean | undefined;

/** Installs the native X25519 once per thread; returns whether it is in place. */
export function installNativeX25519(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  try {
    const lib = path.resolve(path.dirname(require.resolve('werift')), '../..');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const curves = require(path.join(lib, 'dtls/src/cipher/namedCurve.js')) as { generateKeyPair: KeyPairFn };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prf = require(path.join(lib, 'dtls/src/cipher/prf.js')) as { prfPreMasterSecret: PreMasterFn };
    const generate = curves.generateKeyPair;
    const preMaster = prf.prfPreMasterSecret;
    if (typeof generate !== 'function' || typeof preMaster !== 'function') return false;
    curves.generateKeyPair = (curve) => (curve === X25519_CURVE ? { curve, ...x25519KeyPair() } : generate(curve));
    prf.prfPreMasterSecret = (publicKey, privateKey, curve) => (curve === X25519_CURVE ? x25519SharedSecret(privateKey, publicKey) : preMaster(publicKey, privateKey, curve));
    installed = true;
  } catch {
    installed = false;
  }
  return installed;
}
