import {
  canLivestreamTransition,
  livestreamBackoffMs,
  livestreamView,
  LIVESTREAM_ID_RE,
  maskUrl,
  newLivestreamId,
  redactUrl,
  validateLivestreamRequest,
  validateRtmpUrl,
  type Livestream,
} from './livestream';

describe('RTMP destination URLs', () => {
  it.each([
    'rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl-mnop',
    'rtmps://live-api-s.facebook.com:443/rtmp/FB-123-0-Ab',
    'rtmp://127.0.0.1:1935/live/key',
    'rtmp://user:pass@host.example/app/key?token=abc',
    'rtmp://[::1]:1935/live/key',
    'rtmp://host/app',
  ])('accepts %s', (url) => {
    expect(validateRtmpUrl(url)).toBe(url);
  });

  it.each([
    ['file:/etc/passwd', /rtmp/],
    ['file:///tmp/out.flv', /rtmp/],
    ['concat:rtmp://a/b|file:/etc/passwd', /quotes|rtmp/],
    ['subfile,,start,0,end,100,,:/etc/passwd', /rtmp/],
    ['pipe:1', /rtmp/],
    ['-i', /rtmp/],
    ['-f', /rtmp/],
    ['-y /tmp/x', /whitespace/],
    ['http://example.com/live/key', /rtmp/],
    ['srt://example.com:9000', /rtmp/],
    ['tee:rtmp://a/b', /rtmp/],
    ['RTMP://host/app/key', /rtmp/],
    ['rtmp://host/app|evil', /\|/],
    ['rtmp://host/app/key\nfile:/etc/passwd', /whitespace/],
    ['rtmp://host/app/key\r', /whitespace/],
    ['rtmp://host/app/key live=1 swfUrl=x', /whitespace/],
    ['rtmp://host/app/key\u0000', /control/],
    ['rtmp://host/app/"key"', /quotes/],
    ["rtmp://host/app/'key'", /quotes/],
    ['rtmp://host/app/key\\x', /\\/],
    ['rtmp://host/app/key#frag', /fragment/],
    ['rtmp://', /URL|host/],
    ['rtmp:///app/key', /host/],
    ['rtmp://host', /application path/],
    ['rtmp://host/', /application path/],
    ['rtmp:host/app', /rtmp/],
    [`rtmp://host/app/${'k'.repeat(1100)}`, /at most/],
    ['', /non-empty/],
  ])('refuses %j', (url, why) => {
    expect(() => validateRtmpUrl(url)).toThrow(why);
  });

  it('refuses non-strings', () => {
    for (const v of [undefined, null, 42, ['rtmp://h/a'], { url: 'rtmp://h/a' }]) expect(() => validateRtmpUrl(v)).toThrow('string');
  });

  it('masks the stream key, query values and passwords', () => {
    expect(maskUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl')).toBe('rtmp://a.rtmp.youtube.com/live2/***');
    expect(maskUrl('rtmps://live-api-s.facebook.com:443/rtmp/FB-123/more')).toBe('rtmps://live-api-s.facebook.com:443/rtmp/***');
    expect(maskUrl('rtmp://u:secret@h/app/key?auth=t0ken&x')).toBe('rtmp://u:***@h/app/***?auth=***&x');
    expect(maskUrl('rtmp://h/app')).toBe('rtmp://h/app');
    expect(maskUrl('not a url')).toBe('***');
    for (const masked of [maskUrl('rtmp://u:secret@h/app/key123?auth=t0ken')]) {
      expect(masked).not.toMatch(/secret|key123|t0ken/);
    }
  });

  it('redacts the URL and its key from ffmpeg messages', () => {
    const url = 'rtmp://127.0.0.1:1935/live/streamkey42';
    const msg = `${url}: Broken pipe | [rtmp] Server error: streamkey42 refused`;
    const out = redactUrl(msg, url);
    expect(out).not.toContain('streamkey42');
    expect(out).toContain('rtmp://127.0.0.1:1935/live/***');
  });
});

describe('livestream requests and model', () => {
  it('validates the body', () => {
    expect(validateLivestreamRequest({ url: 'rtmp://h/app/k' })).toEqual({ url: 'rtmp://h/app/k' });
    expect(() => validateLivestreamRequest(undefined)).toThrow('JSON object');
    expect(() => validateLivestreamRequest([])).toThrow('JSON object');
    expect(() => validateLivestreamRequest({})).toThrow('url is required');
    expect(() => validateLivestreamRequest({ url: 'rtmp://h/app/k', args: ['-i'] })).toThrow('unknown field');
    expect(() => validateLivestreamRequest({ url: 'file:/etc/passwd' })).toThrow('rtmp');
  });

  it('has ids, a lifecycle and a backoff', () => {
    expect(newLivestreamId()).toMatch(LIVESTREAM_ID_RE);
    expect(LIVESTREAM_ID_RE.test('ls_../../etc')).toBe(false);
    expect(canLivestreamTransition('queued', 'connecting')).toBe(true);
    expect(canLivestreamTransition('connecting', 'active')).toBe(true);
    expect(canLivestreamTransition('active', 'reconnecting')).toBe(true);
    expect(canLivestreamTransition('reconnecting', 'active')).toBe(true);
    expect(canLivestreamTransition('reconnecting', 'failed')).toBe(true);
    expect(canLivestreamTransition('active', 'stopped')).toBe(true);
    expect(canLivestreamTransition('stopped', 'active')).toBe(false);
    expect(canLivestreamTransition('failed', 'reconnecting')).toBe(false);
    expect(canLivestreamTransition('queued', 'active')).toBe(false);
    expect([1, 2, 3, 4, 10].map((n) => livestreamBackoffMs(n, 1000))).toEqual([1000, 2000, 4000, 8000, 30000]);
  });

  it('never shows the stream key in its view', () => {
    const l: Livestream = {
      id: 'ls_0123456789abcdef',
      room: 'r',
      url: 'rtmp://h/live/secretkey',
      status: 'active',
      createdAt: 'x',
      startedAt: 'x',
      failedAttempts: 0,
      reconnects: 0,
      seq: 3,
      stopRequested: 'y',
    };
    const v = livestreamView(l);
    expect(v.url).toBe('rtmp://h/live/***');
    expect(JSON.stringify(v)).not.toContain('secretkey');
    expect(v).not.toHaveProperty('seq');
    expect(v).not.toHaveProperty('stopRequested');
  });
});

describe('livestream destinations on private hosts', () => {
  it.each([
    'rtmp://127.0.0.1:1935/live/key',
    'rtmp://127.1.2.3/live/key',
    'rtmp://localhost/live/key',
    'rtmp://LOCALHOST./live/key',
    'rtmp://foo.localhost/live/key',
    'rtmp://[::1]:1935/live/key',
    'rtmp://[::ffff:127.0.0.1]/live/key',
    'rtmp://[fe80::1]/live/key',
    'rtmp://[fd00:ec2::254]/live/key',
    'rtmp://169.254.169.254/latest/meta-data',
    'rtmp://metadata.google.internal/computeMetadata/v1',
    'rtmp://10.0.0.5/live/key',
    'rtmp://172.16.3.4/live/key',
    'rtmp://192.168.1.10/live/key',
    'rtmp://100.64.0.1/live/key',
    'rtmp://0.0.0.0/live/key',
    'rtmp://2130706433/live/key', // 127.0.0.1 as one number: getaddrinfo takes it
    'rtmp://0x7f000001/live/key',
    'rtmp://0177.0.0.1/live/key',
    'rtmp://127.1/live/key',
  ])('refuses %s (400) unless RTMP_ALLOW_PRIVATE', (url) => {
    expect(() => validateLivestreamRequest({ url })).toThrow(/RTMP_ALLOW_PRIVATE/);
    expect(validateLivestreamRequest({ url }, { allowPrivateHosts: true })).toEqual({ url });
  });

  it.each(['rtmp://a.rtmp.youtube.com/live2/abcd-efgh', 'rtmps://live-api-s.facebook.com:443/rtmp/FB-1', 'rtmp://8.8.8.8/live/k', 'rtmp://[2001:4860::8888]/live/k', 'rtmp://h/app/k'])(
    'accepts the public host of %s',
    (url) => expect(validateLivestreamRequest({ url })).toEqual({ url }),
  );
});
