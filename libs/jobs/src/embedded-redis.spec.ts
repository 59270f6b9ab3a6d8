import { describeExit, redisConfigText, restartDelayMs } from './embedded-redis';
import { redisRetryDelayMs, redactRedisUrl } from './redis-connections';

describe('embedded redis supervision', () => {
  it('restarts after 100 ms, doubling per failure in a row, at most 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map(restartDelayMs)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('says how redis-server ended (its guard exits with 128 + the signal)', () => {
    expect(describeExit(137, null)).toBe('was killed (SIGKILL)');
    expect(describeExit(1, null)).toBe('exited (code 1)');
    expect(describeExit(null, 'SIGKILL')).toBe('stopped: its guard got SIGKILL');
  });

  it('writes a configuration redis reads from stdin: loopback, password, pidfile and AOF in the directory, quoted', () => {
    const text = redisConfigText({ port: 6401, dir: '/data/my "redis"\\x', password: 'p4ss' });
    expect(text.split('\n')).toEqual(
      expect.arrayContaining(['port 6401', 'bind 127.0.0.1', 'protected-mode yes', 'dir "/data/my \\"redis\\"\\\\x"', 'pidfile "/data/my \\"redis\\"\\\\x/redis-server.pid"', 'appendonly yes', 'appendfsync no', 'requirepass "p4ss"']),
    );
  });
});

describe('redis clients', () => {
  it('never log a password', () => {
    expect(redactRedisUrl('redis://:s3cret@127.0.0.1:6400')).toBe('redis://***@127.0.0.1:6400');
    expect(redactRedisUrl('rediss://user:pw@redis.example:6380/0')).toBe('rediss://***@redis.example:6380/0');
    expect(redactRedisUrl('redis://10.0.0.2:6379')).toBe('redis://10.0.0.2:6379');
  });

  it('reconnect within a second once Redis is back', () => {
    expect([1, 2, 10, 20, 100].map(redisRetryDelayMs)).toEqual([50, 100, 500, 1000, 1000]);
  });
});
