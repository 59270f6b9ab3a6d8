import { pathPattern } from './events-ws.adapter';
import { EventSender, parseClientFrame, type SendSocket } from './event-client';

describe('parseClientFrame', () => {
  it('accepts ping and auth', () => {
    expect(parseClientFrame('{"type":"ping","id":7}', false)).toEqual({ ok: true, frame: { type: 'ping', id: 7 } });
    expect(parseClientFrame(Buffer.from('{"type":"auth","token":"abc"}'), false)).toEqual({ ok: true, frame: { type: 'auth', token: 'abc' } });
  });
  it('accepts mute with audio and/or video flags', () => {
    expect(parseClientFrame('{"type":"mute","audio":true}', false)).toEqual({ ok: true, frame: { type: 'mute', audio: true } });
    expect(parseClientFrame('{"type":"mute","audio":false,"video":true}', false)).toEqual({ ok: true, frame: { type: 'mute', audio: false, video: true } });
  });
  it.each([
    ['{"type":"mute"}', 'bad_request'],
    ['{"type":"mute","audio":"yes"}', 'bad_request'],
    ['not json', 'bad_request'],
    ['[1,2]', 'bad_request'],
    ['null', 'bad_request'],
    ['{"type":"subscribe"}', 'unknown_type'],
    ['{}', 'unknown_type'],
    ['{"type":"auth"}', 'bad_request'],
    [`{"type":"ping","pad":"${'x'.repeat(5000)}"}`, 'payload_too_large'],
  ])('%s → %s', (data, code) => {
    expect(parseClientFrame(data, false)).toMatchObject({ ok: false, code });
  });
  it('refuses binary frames', () => {
    expect(parseClientFrame(Buffer.from('{"type":"ping"}'), true)).toMatchObject({ ok: false, code: 'bad_request' });
  });
});

describe('EventSender', () => {
  const fake = (buffered: number) => {
    const s = { bufferedAmount: buffered, readyState: 1, sent: [] as string[], closed: undefined as number | undefined, terminated: false };
    const socket: SendSocket & typeof s = Object.assign(s, {
      send: (d: string) => void s.sent.push(d),
      close: (code: number) => void (s.closed = code),
      terminate: () => void (s.terminated = true),
    });
    return socket;
  };

  it('sends while the client keeps up', () => {
    const s = fake(0);
    const sender = new EventSender(s, () => undefined, 1000);
    expect(sender.send('{"a":1}')).toBe(true);
    expect(s.sent).toEqual(['{"a":1}']);
  });

  it('drops a client that has fallen behind, says why, and never buffers more for it', () => {
    jest.useFakeTimers();
    const s = fake(0);
    const slow: number[] = [];
    const sender = new EventSender(s, (b) => slow.push(b), 1000);
    sender.send('x'.repeat(400));
    s.bufferedAmount = 900; // the client stopped reading
    expect(sender.send('y'.repeat(400))).toBe(false);
    expect(slow).toEqual([900]);
    expect(s.closed).toBe(4008);
    expect(sender.send('z')).toBe(false);
    expect(s.sent).toHaveLength(1);
    jest.advanceTimersByTime(1000);
    expect(s.terminated).toBe(true);
    jest.useRealTimers();
  });
});

describe('pathPattern', () => {
  it('matches the per-room events path and captures the room', () => {
    const re = pathPattern('/v1/rooms/:name/events');
    expect(re.exec('/v1/rooms/demo/events')?.[1]).toBe('demo');
    expect(re.test('/v1/rooms/demo/events/')).toBe(true);
    expect(re.test('/v1/rooms/demo/events/x')).toBe(false);
    expect(re.test('/v1/rooms//events')).toBe(false);
    expect(re.test('/v1/rooms/a/b/events')).toBe(false);
  });
});
