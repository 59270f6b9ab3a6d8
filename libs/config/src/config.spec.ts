import { ConfigError, defaultCapacityCores, loadConfig, parseIceServers } from './config';
import { DEV_API_KEY } from './credentials';

describe('loadConfig', () => {
  it('works with nothing set, using dev credentials on loopback', () => {
    const c = loadConfig({}, '/srv');
    expect(c).toMatchObject({ port: 3000, host: '127.0.0.1', apiKey: DEV_API_KEY, devCredentials: true, dataDir: '/srv/data' });
    expect(c.redisUrl).toBeUndefined();
  });

  it('listens on all interfaces by default once credentials are set', () => {
    expect(loadConfig({ MCU_API_KEY: 'k', MCU_API_SECRET: 'a-long-enough-secret' }, '/srv')).toMatchObject({ host: '0.0.0.0', devCredentials: false });
  });

  it('refuses to start on dev credentials off loopback or in production, saying what to set', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(/MCU_API_KEY and MCU_API_SECRET are not set[\s\S]*HOST=127\.0\.0\.1[\s\S]*MCU_DEV=1/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/NODE_ENV=production/);
    expect(() => loadConfig({ NODE_ENV: 'production', HOST: '127.0.0.1', MCU_DEV: '1' })).toThrow(/NODE_ENV=production/);
    expect(() => loadConfig({ MCU_DEV: 'yes' })).toThrow(/MCU_DEV must be/);
    // the docker image: NODE_ENV=production HOST=0.0.0.0, nothing else set
    expect(() => loadConfig({ NODE_ENV: 'production', HOST: '0.0.0.0' })).toThrow(ConfigError);
  });

  it('checks REDIS_KEY_PREFIX, which becomes part of every Redis key', () => {
    expect(() => loadConfig({ REDIS_KEY_PREFIX: 'team-a.prod_1' })).not.toThrow();
    for (const bad of ['-x', 'a b', 'a:b', 'x'.repeat(33), '../x']) expect(() => loadConfig({ REDIS_KEY_PREFIX: bad })).toThrow(/REDIS_KEY_PREFIX/);
  });

  it('allows dev credentials off loopback only with MCU_DEV=1', () => {
    expect(loadConfig({ HOST: '0.0.0.0', MCU_DEV: '1' })).toMatchObject({ host: '0.0.0.0', devCredentials: true });
    expect(loadConfig({ HOST: '::1' })).toMatchObject({ host: '::1', devCredentials: true });
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
        FFPROBE_PATH: '/opt/ffprobe',
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
      ffprobePath: '/opt/ffprobe',
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

describe('recording settings', () => {
  it('reconnect for 30 s after a lost stream by default; 0 turns it off; other values are refused', () => {
    expect(loadConfig({}, '/srv').recordingReconnectMs).toBe(30_000);
    expect(loadConfig({ RECORDING_RECONNECT_SECONDS: '0' }, '/srv').recordingReconnectMs).toBe(0);
    expect(loadConfig({ RECORDING_RECONNECT_SECONDS: '7.5' }, '/srv').recordingReconnectMs).toBe(7500);
    expect(() => loadConfig({ RECORDING_RECONNECT_SECONDS: '-1' })).toThrow('RECORDING_RECONNECT_SECONDS must be a number from 0 to 3600');
    expect(() => loadConfig({ RECORDING_RECONNECT_SECONDS: 'soon' })).toThrow('RECORDING_RECONNECT_SECONDS');
  });
});

describe('admission control settings', () => {
  it('have defaults: the old 25 publishers per room, 300 s idle rooms, 85 % of the cores as the budget', () => {
    expect(loadConfig({}, '/srv', 4)).toMatchObject({
      maxRooms: 100,
      maxPublishersPerRoom: 25,
      maxSubscribersPerRoom: 200,
      maxSubscribers: 1000,
      maxEventClientsPerRoom: 500,
      maxEventClientsPerIdentity: 5,
      eventsHeartbeatMs: 15_000,
      maxPublishers: 500,
      sessionConnectTimeoutMs: 20_000,
      nodeCapacityCores: 3.4,
      roomIdleMs: 300_000,
    });
    expect(loadConfig({}, '/srv', 2).nodeCapacityCores).toBe(1.7);
    expect(defaultCapacityCores(3)).toBe(2.55);
  });

  it('are read', () => {
    const c = loadConfig(
      { MAX_ROOMS: '2', MAX_PUBLISHERS_PER_ROOM: '9', MAX_SUBSCRIBERS_PER_ROOM: '1', MAX_SUBSCRIBERS: '40', MAX_EVENT_CLIENTS_PER_ROOM: '3', NODE_CAPACITY_CORES: '0.05', ROOM_IDLE_SECONDS: '0' },
      '/srv',
    );
    expect(c).toMatchObject({ maxRooms: 2, maxPublishersPerRoom: 9, maxSubscribersPerRoom: 1, maxSubscribers: 40, maxEventClientsPerRoom: 3, nodeCapacityCores: 0.05, roomIdleMs: 0 });
    expect(loadConfig({ MAX_EVENT_CLIENTS_PER_IDENTITY: '2', EVENTS_HEARTBEAT_SECONDS: '1', MAX_PUBLISHERS: '7' }, '/srv')).toMatchObject({ maxEventClientsPerIdentity: 2, eventsHeartbeatMs: 1000, maxPublishers: 7 });
    expect(() => loadConfig({ EVENTS_HEARTBEAT_SECONDS: '0' }, '/srv')).toThrow('EVENTS_HEARTBEAT_SECONDS');
    expect(loadConfig({ SESSION_CONNECT_TIMEOUT_SECONDS: '2' }, '/srv').sessionConnectTimeoutMs).toBe(2000);
    expect(() => loadConfig({ SESSION_CONNECT_TIMEOUT_SECONDS: 'never' }, '/srv')).toThrow('SESSION_CONNECT_TIMEOUT_SECONDS');
    expect(() => loadConfig({ MAX_EVENT_CLIENTS_PER_IDENTITY: '0' }, '/srv')).toThrow('MAX_EVENT_CLIENTS_PER_IDENTITY');
  });

  it('refuse what is not a whole number in range (or a positive core count), naming each', () => {
    const bad = { MAX_ROOMS: '0', MAX_PUBLISHERS_PER_ROOM: '2.5', MAX_SUBSCRIBERS_PER_ROOM: 'many', MAX_SUBSCRIBERS: '-1', MAX_EVENT_CLIENTS_PER_ROOM: '1e3', NODE_CAPACITY_CORES: '0', ROOM_IDLE_SECONDS: '10m' };
    try {
      loadConfig(bad, '/srv');
      throw new Error('expected ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems;
      expect(problems).toHaveLength(Object.keys(bad).length);
      expect(problems).toContain('MAX_ROOMS must be a whole number from 1 to 100000 (got "0")');
      expect(problems).toContain('NODE_CAPACITY_CORES must be a number from 0.01 to 4096 (got "0")');
      expect(problems.join('\n')).toMatch(/MAX_PUBLISHERS_PER_ROOM[\s\S]*MAX_SUBSCRIBERS_PER_ROOM[\s\S]*MAX_SUBSCRIBERS [\s\S]*MAX_EVENT_CLIENTS_PER_ROOM[\s\S]*ROOM_IDLE_SECONDS/);
    }
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

  it('RTMP_ALLOW_PRIVATE: off unless 1/true; anything else is a config error', () => {
    expect(loadConfig({}).rtmpAllowPrivate).toBe(false);
    expect(loadConfig({ RTMP_ALLOW_PRIVATE: '1' }).rtmpAllowPrivate).toBe(true);
    expect(loadConfig({ RTMP_ALLOW_PRIVATE: 'false' }).rtmpAllowPrivate).toBe(false);
    expect(() => loadConfig({ RTMP_ALLOW_PRIVATE: 'yes' })).toThrow(/RTMP_ALLOW_PRIVATE/);
  });
});
