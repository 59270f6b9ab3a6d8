import { ValidationError } from './errors';
import { DEFAULT_ROOM_OPTIONS, validateCreateRoom, validateRoomName, validateRoomUpdate, validateTokenRequest } from './validation';

describe('validateCreateRoom', () => {
  it('applies defaults', () => {
    expect(validateCreateRoom({ name: 'daily-standup' })).toEqual({ name: 'daily-standup', options: DEFAULT_ROOM_OPTIONS });
  });
  it('accepts explicit options', () => {
    const r = validateCreateRoom({ name: 'r1', width: 640, height: 360, fps: 15, videoBitrateKbps: 500, videoCodec: 'vp8' });
    expect(r.options).toMatchObject({ width: 640, height: 360, fps: 15, videoBitrateKbps: 500, videoCodec: 'vp8' });
  });
  it.each([
    [null, 'JSON object'],
    [[], 'JSON object'],
    ['x', 'JSON object'],
    [{}, 'room name'],
    [{ name: '../etc' }, 'room name'],
    [{ name: 'a b' }, 'room name'],
    [{ name: 'x'.repeat(65) }, 'room name'],
    [{ name: 'r', layout: 'mosaic' }, 'layout'],
    [{ name: 'r', width: 641 }, 'even'],
    [{ name: 'r', width: '1280' }, 'width'],
    [{ name: 'r', fps: 0 }, 'fps'],
    [{ name: 'r', fps: 29.97 }, 'fps'],
    [{ name: 'r', videoBitrateKbps: 1e9 }, 'videoBitrateKbps'],
    [{ name: 'r', videoCodec: 'av1' }, 'videoCodec'],
    [{ name: 'r', colour: 'red' }, 'unknown field'],
    [{ name: 'r', fit: 'stretch' }, 'fit must be one of: cover, contain'],
  ])('rejects %j', (body, msg) => {
    expect(() => validateCreateRoom(body)).toThrow(ValidationError);
    expect(() => validateCreateRoom(body)).toThrow(msg);
  });
  it('fit: cover by default, contain on request', () => {
    expect(validateCreateRoom({ name: 'r' }).options.fit).toBe('cover');
    expect(validateCreateRoom({ name: 'r', fit: 'contain' }).options.fit).toBe('contain');
  });
});

describe('validateRoomUpdate', () => {
  it('changes fit at run time, validated', () => {
    expect(validateRoomUpdate({ fit: 'contain' })).toEqual({ fit: 'contain' });
    expect(validateRoomUpdate({ layout: 'speaker', fit: 'cover' })).toEqual({ layout: 'speaker', fit: 'cover' });
    expect(() => validateRoomUpdate({ fit: 'fill' })).toThrow('fit must be one of: cover, contain');
    expect(() => validateRoomUpdate({ fit: 1 })).toThrow(ValidationError);
  });
});

describe('validateTokenRequest', () => {
  it('applies defaults', () => {
    expect(validateTokenRequest({ identity: 'alice' })).toEqual({
      identity: 'alice',
      canPublish: true,
      canSubscribe: true,
      ttlSeconds: 3600,
    });
  });
  it.each([
    [{}, 'identity'],
    [{ identity: '' }, 'identity'],
    [{ identity: 'a/b' }, 'identity'],
    [{ identity: 'a', canPublish: 'yes' }, 'canPublish'],
    [{ identity: 'a', ttlSeconds: 0 }, 'ttlSeconds'],
    [{ identity: 'a', displayName: 'bad\nname' }, 'displayName'],
  ])('rejects %j', (body, msg) => {
    expect(() => validateTokenRequest(body)).toThrow(msg);
  });
  it('room name validator is exported for path params', () => {
    expect(validateRoomName('ok.name_1')).toBe('ok.name_1');
  });
});
