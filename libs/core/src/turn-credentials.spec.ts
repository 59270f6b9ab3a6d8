import { execFileSync } from 'node:child_process';
import { signRoomToken, tokenExpiry } from './token';
import { iceServersFor, turnCredentials } from './turn-credentials';

// coturn documents the TURN REST password as
//   echo -n "$username" | openssl dgst -binary -sha1 -hmac "$secret" | openssl base64
// with username = "<expiry timestamp>:<user>". The expected values below were produced with exactly that command.
function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
}

describe('TURN REST credentials (coturn use-auth-secret)', () => {
  it('matches coturn\'s documented computation', () => {
    expect(turnCredentials('logen', 'testuser', 0, 1433895918)).toEqual({
      username: '1433895918:testuser',
      credential: 'iqeVFxswZ0uBBXeTZWcq+SghJyw=',
      expiresAt: 1433895918,
    });
    // username carries the expiry (now + ttl), not the issue time
    expect(turnCredentials('north-wind-secret', 'alice', 86400, 1700000000)).toEqual({
      username: '1700086400:alice',
      credential: 'B4h6iVPKLBEfsWdDRuUeZl3vUbo=',
      expiresAt: 1700086400,
    });
  });

  // reported as skipped, not passed, where openssl is missing (the fixed vectors above still run)
  (hasOpenssl() ? it : it.skip)('agrees with openssl for other inputs', () => {
    for (const [secret, identity] of [['s3cr3t with spaces', 'bob'], ['ünïcode-secret', 'carol:with:colons']]) {
      const c = turnCredentials(secret, identity, 600, 1800000000);
      const viaOpenssl = execFileSync('sh', ['-c', 'printf "%s" "$U" | openssl dgst -binary -sha1 -hmac "$S" | openssl base64'], {
        env: { ...process.env, U: c.username, S: secret },
      })
        .toString()
        .trim();
      expect(c.credential).toBe(viaOpenssl);
    }
  });

  it('adds credentials to TURN servers only, and only with a secret', () => {
    const servers = [
      { urls: ['stun:stun.example.com:3478'] },
      { urls: ['turn:turn.example.com:3478', 'turns:turn.example.com:5349'] },
      { urls: ['turn:static.example.com'], username: 'fixed', credential: 'pw' },
    ];
    expect(iceServersFor(servers, { ttlSeconds: 60, identity: 'alice' })).toEqual(servers);
    const out = iceServersFor(servers, { secret: 'k', ttlSeconds: 60, identity: 'alice', nowSeconds: 100 });
    expect(out[0]).toEqual(servers[0]);
    expect(out[1]).toEqual({ ...servers[1], username: '160:alice', credential: turnCredentials('k', 'alice', 60, 100).credential });
    expect(out[2]).toEqual(servers[2]);
    expect(servers[1]).not.toHaveProperty('username'); // input untouched
  });

  it('expire with the room token they come with, not TURN_TTL_SECONDS later', () => {
    const servers = [{ urls: ['turn:turn.example.com:3478'] }];
    // a token valid 10 more minutes: the TURN credentials end with it, although TURN_TTL_SECONDS is a day
    const [withToken] = iceServersFor(servers, { secret: 'k', ttlSeconds: 86400, identity: 'alice', nowSeconds: 1000, notAfterSeconds: 1600 });
    expect(withToken.username).toBe('1600:alice');
    expect(withToken.credential).toBe(turnCredentials('k', 'alice', 600, 1000).credential);
    // a token that outlives TURN_TTL_SECONDS: the TTL still bounds them
    expect(iceServersFor(servers, { secret: 'k', ttlSeconds: 60, identity: 'alice', nowSeconds: 1000, notAfterSeconds: 99999 })[0].username).toBe('1060:alice');
    // an expiry in the past (clock skew): never credentials that outlive it
    expect(iceServersFor(servers, { secret: 'k', ttlSeconds: 60, identity: 'alice', nowSeconds: 1000, notAfterSeconds: 900 })[0].username).toBe('1000:alice');
  });
});

describe('tokenExpiry', () => {
  it('reads the exp claim of a room token (verified elsewhere), undefined when there is none', () => {
    const { token, claims } = signRoomToken({ room: 'r', identity: 'alice', canPublish: true, canSubscribe: true }, 'secret', { ttlSeconds: 600 });
    expect(tokenExpiry(token)).toBe(claims.exp);
    expect(tokenExpiry('not.a.jwt')).toBeUndefined();
    expect(tokenExpiry(undefined)).toBeUndefined();
  });
});

