import { ValidationError } from './errors';
import { DEFAULT_ROOM_OPTIONS, identityForName, validateCreateRoom, validateJoinRequest, validateRoomName, validateRoomUpdate, validateTokenRequest } from './validation';

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

describe('joining through an invitation', () => {
  it('takes a name, trimmed', () => {
    expect(validateJoinRequest({ displayName: '  Zoë  ' })).toEqual({ displayName: 'Zoë' });
    for (const bad of [{}, { displayName: '   ' }, { displayName: 'x'.repeat(65) }, { displayName: 'a\nb' }, { displayName: 3 }, { displayName: 'a', identity: 'b' }]) {
      expect(() => validateJoinRequest(bad)).toThrow(ValidationError);
    }
  });
  it('makes an identity from the name and a suffix', () => {
    expect(identityForName('Zoë Martin', 'ab12cd')).toBe('zoe-martin-ab12cd');
    expect(identityForName('李雷', 'ab12cd')).toBe('guest-ab12cd');
    expect(identityForName('--Bob--', 'x1')).toBe('bob-x1');
    expect(identityForName('a'.repeat(100), 'x1')).toBe(`${'a'.repeat(40)}-x1`);
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
  it('takes roomAdmin and invite, never both', () => {
    expect(validateTokenRequest({ identity: 'host', roomAdmin: true })).toMatchObject({ identity: 'host', roomAdmin: true });
    expect(validateTokenRequest({ identity: 'invite', invite: true, canPublish: false })).toMatchObject({ invite: true, canPublish: false });
    expect(validateTokenRequest({ identity: 'a', roomAdmin: false, invite: false })).toEqual({ identity: 'a', canPublish: true, canSubscribe: true, ttlSeconds: 3600 });
    expect(() => validateTokenRequest({ identity: 'a', roomAdmin: true, invite: true })).toThrow('exclusive');
    expect(() => validateTokenRequest({ identity: 'a', roomAdmin: 'yes' })).toThrow('roomAdmin');
  });
  it('room name validator is exported for path params', () => {
    expect(validateRoomName('ok.name_1')).toBe('ok.name_1');
  });
});
