import nacl from 'tweetnacl';
import * as path from 'node:path';
import { installNativeX25519, x25519KeyPair, x25519SharedSecret } from './werift-dtls-x25519';

describe('native X25519 for werift DTLS', () => {
  it('agrees with tweetnacl (what werift uses) both ways', () => {
    for (let i = 0; i < 20; i++) {
      const ours = x25519KeyPair();
      const theirs = nacl.box.keyPair();
      expect(ours.privateKey).toHaveLength(32);
      expect(ours.publicKey).toHaveLength(32);
      // our public key is the point of our private scalar
      expect(Buffer.from(nacl.scalarMult.base(ours.privateKey))).toEqual(ours.publicKey);
      const a = x25519SharedSecret(ours.privateKey, Buffer.from(theirs.publicKey));
      const b = Buffer.from(nacl.scalarMult(theirs.secretKey, ours.publicKey));
      expect(a).toEqual(b);
      expect(x25519SharedSecret(Buffer.from(theirs.secretKey), ours.publicKey)).toEqual(b);
    }
  });

  it("replaces werift's X25519 functions and leaves P-256 to werift", () => {
    expect(installNativeX25519()).toBe(true);
    const lib = path.resolve(path.dirname(require.resolve('werift')), '../..');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const curves = require(path.join(lib, 'dtls/src/cipher/namedCurve.js'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prf = require(path.join(lib, 'dtls/src/cipher/prf.js'));
    const a = curves.generateKeyPair(29);
    const b = curves.generateKeyPair(29);
    expect(prf.prfPreMasterSecret(b.publicKey, a.privateKey, 29)).toEqual(Buffer.from(nacl.scalarMult(b.privateKey, a.publicKey)));
    const p = curves.generateKeyPair(23);
    const q = curves.generateKeyPair(23);
    expect(prf.prfPreMasterSecret(q.publicKey, p.privateKey, 23)).toEqual(prf.prfPreMasterSecret(p.publicKey, q.privateKey, 23));
  });
});
