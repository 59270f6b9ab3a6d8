import { Writable } from 'node:stream';
import { pino } from 'pino';
import { childLogger, objectLogger } from '@app/media/logger';
import { pinoHttpOptions, pinoOptions, roomOfUrl } from './pino-options';

/** The JSON lines a media Logger writes through pino configured as the apps configure it. */
function capture(): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof objectLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const log = pino(pinoOptions({ logLevel: 'debug' }, 'test'), sink);
  const logger = objectLogger({
    log: (m) => log.info(m),
    warn: (m) => log.warn(m),
    error: (m) => log.error(m),
    debug: (m) => log.debug(m),
  });
  return { lines, logger };
}

describe('structured log lines', () => {
  it('carry the ids handed down by child loggers as fields, whatever the message says', () => {
    const { lines, logger } = capture();
    const room = childLogger(logger, { room: 'standup' });
    const publisher = childLogger(room, { participant: 'p-1', identity: 'alice' });
    publisher.warn('sent no media for 5000 ms; removing');
    childLogger(room, {}, '[room standup] ').log('mixer started', { identity: 'bob' });
    logger.log('MCU listening on http://127.0.0.1:3000');
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'sent no media for 5000 ms; removing', room: 'standup', participant: 'p-1', identity: 'alice' });
    expect(lines[1]).toMatchObject({ level: 'info', msg: '[room standup] mixer started', room: 'standup', identity: 'bob' });
    expect(lines[2]).toMatchObject({ msg: 'MCU listening on http://127.0.0.1:3000' });
    expect(lines[2]).not.toHaveProperty('room');
  });

  it('a room named in a message is not a field unless handed down', () => {
    const { lines, logger } = capture();
    logger.log('room demo created (1280x720@30, h264 1500 kbps)');
    expect(lines[0]).not.toHaveProperty('room');
  });

  it('the fields of a call win over the inherited ones; undefined ones are left out', () => {
    const { lines, logger } = capture();
    childLogger(logger, { recording: 'rec_1', job: 'rec_1' }).log('ready', { job: 'rec_1-2', room: undefined });
    expect(lines[0]).toMatchObject({ recording: 'rec_1', job: 'rec_1-2' });
    expect(lines[0]).not.toHaveProperty('room');
  });
});


describe('request logs', () => {
  it('never carry a viewer token from the query string', () => {
    const o = pinoHttpOptions({ logLevel: 'log' });
    const serialize = (o.serializers as { req: (r: { id: string; method: string; url: string }) => { url: string } }).req;
    expect(serialize({ id: '1', method: 'GET', url: '/v1/rooms/demo/hls/index.m3u8?token=eyJ.secret.sig' }).url).toBe('/v1/rooms/demo/hls/index.m3u8?token=***');
    const props = (o.customProps as (req: { url: string }) => Record<string, unknown>)({ url: '/v1/rooms/demo/hls/a.ts?token=eyJ.secret.sig' });
    expect(JSON.stringify(props)).not.toContain('secret');
    expect(props).toEqual({ room: 'demo' });
  });

  it('name the room of a room path, and none otherwise', () => {
    expect(roomOfUrl('/v1/rooms/demo/whip')).toBe('demo');
    expect(roomOfUrl('/v1/rooms/a%2Eb?x=1')).toBe('a.b');
    expect(roomOfUrl('/v1/recordings/rec_0123456789abcdef')).toBeUndefined();
    expect(roomOfUrl(undefined)).toBeUndefined();
  });

  it('log 503s (capacity, shutting down) as warnings, other 5xx as errors, 4xx as info', () => {
    const level = pinoHttpOptions({ logLevel: 'log' }).customLogLevel as unknown as (req: unknown, res: { statusCode: number }, err?: Error) => string;
    expect(level({}, { statusCode: 503 }, new Error('failed with status code 503'))).toBe('warn');
    expect(level({}, { statusCode: 500 }, new Error('x'))).toBe('error');
    expect(level({}, { statusCode: 404 })).toBe('info');
  });
});
