import { ConfigError, DEV_API_KEY, loadConfig, parseIceServers } from './config';

describe('loadConfig', () => {
  it('works with nothing set, using dev credentials', () => {
    const c = loadConfig({}, '/srv');
    expect(c).toMatchObject({ port: 3000, host: '0.0.0.0', apiKey: DEV_API_KEY, devCredentials: true, dataDir: '/srv/data' });
    expect(c.redisUrl).toBeUndefined();
  });

  it('reads every documented variable', () => {
    const c = loadConfig(
      {
        PORT: '8080',
        HOST: '127.0.0.1',
        MCU_API_KEY: 'prodkey',
        MCU_API_SECRET: 'a-long-enough-secret',
        RTC_MIN_PORT: '40000',
        RTC_MAX_PORT: '40100',
        PUBLIC_IP: '203.0.113.7',
        ICE_SERVERS: 'stun:stun.example.com:3478',
        FFMPEG_PATH: '/opt/ffmpeg',
        REDIS_URL: 'redis://10.0.0.2:6379',
        DATA_DIR: '/var/lib/mcu',
      },
      '/srv',
    );
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      apiKey: 'prodkey',
      devCredentials: false,
      rtcMinPort: 40000,
      rtcMaxPort: 40100,
      publicIp: '203.0.113.7',
      iceServers: [{ urls: ['stun:stun.example.com:3478'] }],
      ffmpegPath: '/opt/ffmpeg',
      redisUrl: 'redis://10.0.0.2:6379',
      dataDir: '/var/lib/mcu',
    });
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ PORT: 'abc', MCU_API_KEY: 'k', RTC_MIN_PORT: '50000', RTC_MAX_PORT: '40000', PUBLIC_IP: 'nope', REDIS_URL: 'http://x' });
      throw new Error('expected ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      for (const k of ['PORT', 'MCU_API_SECRET', 'RTC_MAX_PORT', 'PUBLIC_IP', 'REDIS_URL']) expect(msg).toContain(k);
    }
  });
});

describe('operations settings', () => {
  it('has defaults for TURN, metrics, shutdown and log format', () => {
    const c = loadConfig({}, '/srv');
    expect(c).toMatchObject({ turnTtlSeconds: 86400, shutdownTimeoutMs: 25000, prettyLogs: true });
    expect(c.turnSecret).toBeUndefined();
    expect(c.metricsToken).toBeUndefined();
    // production credentials: JSON logs unless LOG_FORMAT=pretty
    expect(loadConfig({ MCU_API_KEY: 'k', MCU_API_SECRET: 'a-long-enough-secret' }).prettyLogs).toBe(false);
  });

  it('reads them', () => {
    const c = loadConfig({
      ICE_SERVERS: 'turn:turn.example.com:3478',
      TURN_SECRET: 'shared',
      TURN_TTL_SECONDS: '600',
      METRICS_TOKEN: 'metrics-token-0123456789',
      SHUTDOWN_TIMEOUT_SECONDS: '10',
      LOG_FORMAT: 'json',
    });
    expect(c).toMatchObject({ turnSecret: 'shared', turnTtlSeconds: 600, metricsToken: 'metrics-token-0123456789', shutdownTimeoutMs: 10000, prettyLogs: false });
  });

  it('refuses a TURN secret without a turn: server, and bad values', () => {
    expect(() => loadConfig({ TURN_SECRET: 'x', ICE_SERVERS: 'stun:s:3478' })).toThrow('TURN_SECRET');
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow('METRICS_TOKEN');
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: '0' })).toThrow('SHUTDOWN_TIMEOUT_SECONDS');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT');
  });
});

describe('livestream and HLS settings', () => {
  it('have defaults', () => {
    expect(loadConfig({}, '/srv')).toMatchObject({
      livestreamConcurrency: 4,
      livestreamMaxAttempts: 10,
      livestreamRetryBackoffMs: 1000,
      hlsIdleTimeoutMs: 30_000,
      hlsSegmentSeconds: 1,
      hlsListSize: 6,
      hlsLowRendition: false,
    });
  });
  it('are read and checked', () => {
    const c = loadConfig({ LIVESTREAM_CONCURRENCY: '2', LIVESTREAM_MAX_ATTEMPTS: '3', LIVESTREAM_RETRY_BACKOFF_MS: '250', HLS_IDLE_TIMEOUT_SECONDS: '5', HLS_SEGMENT_SECONDS: '2', HLS_LIST_SIZE: '4', HLS_LOW_RENDITION: 'true' }, '/srv');
    expect(c).toMatchObject({ livestreamConcurrency: 2, livestreamMaxAttempts: 3, livestreamRetryBackoffMs: 250, hlsIdleTimeoutMs: 5000, hlsSegmentSeconds: 2, hlsListSize: 4, hlsLowRendition: true });
    expect(() => loadConfig({ LIVESTREAM_MAX_ATTEMPTS: '0', HLS_LIST_SIZE: '1', HLS_LOW_RENDITION: 'yes' })).toThrow(/LIVESTREAM_MAX_ATTEMPTS[\s\S]*HLS_LIST_SIZE[\s\S]*HLS_LOW_RENDITION/);
  });
});

describe('parseIceServers', () => {
  it('parses a URL list with TURN credentials', () => {
    expect(parseIceServers('stun:s.example:3478, turn:u%40x:p@t.example:3478?transport=udp')).toEqual([
      { urls: ['stun:s.example:3478'] },
      { urls: ['turn:t.example:3478?transport=udp'], username: 'u@x', credential: 'p' },
    ]);
  });
  it('parses JSON', () => {
    expect(parseIceServers('[{"urls":"turn:t:3478","username":"a","credential":"b"}]')).toEqual([
      { urls: ['turn:t:3478'], username: 'a', credential: 'b' },
    ]);
  });
  it('rejects other schemes', () => {
    expect(() => parseIceServers('http://evil')).toThrow('not a stun');
  });
});
