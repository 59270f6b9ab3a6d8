import { redisPassword, decideCredentials, DEV_API_SECRET, isLoopbackHost, isPublishedSecret } from './credentials';

const base = { dev: false, production: false };
const real = { apiKey: 'prodkey', apiSecret: 'f3a9c1d27be84e60a5' };

describe('isLoopbackHost', () => {
  it('knows loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect([h, isLoopbackHost(h)]).toEqual([h, true]);
  });
  it('and what is not', () => {
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '128.0.0.1', 'localhost.example.com', '']) {
      expect([h, isLoopbackHost(h)]).toEqual([h, false]);
    }
  });
});

describe('decideCredentials', () => {
  it('nothing set: dev credentials, listening on loopback', () => {
    expect(decideCredentials(base)).toMatchObject({ devCredentials: true, host: '127.0.0.1', apiSecret: DEV_API_SECRET, problems: [] });
  });

  it('dev credentials on a loopback HOST are fine', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost']) expect(decideCredentials({ ...base, host }).problems).toEqual([]);
  });

  it('dev credentials on a network address: refused, naming the three ways out', () => {
    const [p, ...rest] = decideCredentials({ ...base, host: '0.0.0.0' }).problems;
    expect(rest).toEqual([]);
    expect(p).toContain('HOST=0.0.0.0');
    for (const fix of ['MCU_API_KEY', 'MCU_API_SECRET', 'HOST=127.0.0.1', 'MCU_DEV=1']) expect(p).toContain(fix);
  });

  it('MCU_DEV=1 allows them anywhere, except in production', () => {
    expect(decideCredentials({ ...base, host: '0.0.0.0', dev: true })).toMatchObject({ devCredentials: true, host: '0.0.0.0', problems: [] });
    expect(decideCredentials({ ...base, dev: true, production: true }).problems.join()).toContain('NODE_ENV=production');
  });

  it('production never runs on dev credentials, not even on loopback', () => {
    const { problems } = decideCredentials({ ...base, host: '127.0.0.1', production: true });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('NODE_ENV=production');
    expect(problems[0]).not.toContain('MCU_DEV=1'); // no way around it there
  });

  it('real credentials: all interfaces by default, anywhere, production included', () => {
    expect(decideCredentials({ ...base, ...real })).toMatchObject({ devCredentials: false, host: '0.0.0.0', apiKey: 'prodkey', problems: [] });
    expect(decideCredentials({ ...base, ...real, production: true, host: '10.0.0.5' }).problems).toEqual([]);
  });

  it('one of the pair, or a short secret, is refused', () => {
    expect(decideCredentials({ ...base, apiKey: 'k' }).problems).toEqual(['set both MCU_API_KEY and MCU_API_SECRET, or neither']);
    expect(decideCredentials({ ...base, apiKey: 'k', apiSecret: 'short' }).problems).toEqual(['MCU_API_SECRET must be at least 16 characters']);
  });

  it('published placeholder secrets count as dev credentials', () => {
    expect(isPublishedSecret('change-me-to-a-long-random-secret')).toBe(true);
    expect(isPublishedSecret(DEV_API_SECRET)).toBe(true);
    expect(isPublishedSecret(real.apiSecret)).toBe(false);
    const placeholders = { apiKey: 'change-me', apiSecret: 'change-me-to-a-long-random-secret', turnSecret: 'change-me-to-another-long-random-secret' };
    expect(decideCredentials({ ...base, ...placeholders, host: '127.0.0.1' }).problems).toEqual([]);
    const refused = decideCredentials({ ...base, ...placeholders, production: true, host: '0.0.0.0' }).problems;
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatch(/^MCU_API_SECRET is a published placeholder/);
    expect(refused[1]).toMatch(/^TURN_SECRET is a published placeholder/);
  });

  it("refuses docker/.env.example's Redis password off loopback, and reads it from the URL", () => {
    expect(redisPassword('redis://:change-me-redis@redis:6379')).toBe('change-me-redis');
    expect(redisPassword('rediss://user:p%40ss@h:6380/2')).toBe('p@ss');
    expect(redisPassword('redis://redis:6379')).toBe('');
    const url = 'redis://:change-me-to-a-redis-password@redis:6379';
    expect(decideCredentials({ ...base, ...real, redisUrl: url, production: true, host: '0.0.0.0' }).problems).toEqual([expect.stringMatching(/^REDIS_URL has a published placeholder password/)]);
    expect(decideCredentials({ ...base, ...real, redisUrl: url, host: '127.0.0.1' }).problems).toEqual([]);
    expect(decideCredentials({ ...base, ...real, redisUrl: 'redis://:0b9e7d5c3a1f2e4d6c8b@redis:6379', production: true, host: '0.0.0.0' }).problems).toEqual([]);
  });
});
