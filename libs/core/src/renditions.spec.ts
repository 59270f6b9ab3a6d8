import { ValidationError } from './errors';
import { defaultRenditions, ladderOf, validateRenditions } from './renditions';
import { DEFAULT_ROOM_OPTIONS, validateCreateRoom, validateRoomUpdate } from './validation';

const room720 = { width: 1280, height: 720, fps: 30, videoBitrateKbps: 1500 };
const room4k = { width: 3840, height: 2160, fps: 30, videoBitrateKbps: 8000 };

describe('defaultRenditions', () => {
  it('gives medium and low for the default 1280x720 / 30 fps / 1500 kbps room', () => {
    expect(defaultRenditions(room720)).toEqual([
      { name: 'medium', width: 640, height: 360, bitrateKbps: 500, fps: 30 },
      { name: 'low', width: 320, height: 180, bitrateKbps: 150, fps: 20 },
    ]);
  });
  it('scales from a 640x360 / 800 kbps room (low at its 160x90 floor and 100 kbps minimum)', () => {
    expect(defaultRenditions({ width: 640, height: 360, fps: 30, videoBitrateKbps: 800 })).toEqual([
      { name: 'medium', width: 320, height: 180, bitrateKbps: 267, fps: 30 },
      { name: 'low', width: 160, height: 90, bitrateKbps: 100, fps: 20 },
    ]);
  });
  it('scales from a 3840x2160 room', () => {
    expect(defaultRenditions({ width: 3840, height: 2160, fps: 60, videoBitrateKbps: 12000 })).toEqual([
      { name: 'medium', width: 1920, height: 1080, bitrateKbps: 4000, fps: 60 },
      { name: 'low', width: 960, height: 540, bitrateKbps: 1200, fps: 20 },
    ]);
  });
  it('leaves out rungs below 160x90', () => {
    expect(defaultRenditions({ width: 480, height: 270, fps: 30, videoBitrateKbps: 800 }).map((r) => r.name)).toEqual(['medium']);
    expect(defaultRenditions({ width: 160, height: 120, fps: 30, videoBitrateKbps: 800 })).toEqual([]);
  });
  it('leaves out rungs that would not have a lower bitrate than the rung above', () => {
    expect(defaultRenditions({ ...room720, videoBitrateKbps: 300 }).map((r) => [r.name, r.bitrateKbps])).toEqual([['medium', 100]]);
    expect(defaultRenditions({ ...room720, videoBitrateKbps: 100 })).toEqual([]);
  });
  it('keeps even sizes for odd halves', () => {
    const [medium, low] = defaultRenditions({ width: 1364, height: 766, fps: 30, videoBitrateKbps: 1500 });
    expect([medium.width, medium.height, low.width, low.height]).toEqual([682, 382, 340, 190]);
  });
  it('always passes validateRenditions', () => {
    for (const width of [160, 320, 640, 1282, 1920, 3840]) {
      for (const height of [120, 360, 720, 1080, 2160]) {
        for (const fps of [5, 15, 30, 60]) {
          for (const videoBitrateKbps of [100, 250, 800, 1500, 6000, 20000]) {
            const room = { width, height, fps, videoBitrateKbps };
            const rungs = defaultRenditions(room);
            expect(validateRenditions(rungs, room)).toEqual(rungs);
          }
        }
      }
    }
  });
});

describe('ladderOf', () => {
  it('puts high (the room itself) first, then the default rungs', () => {
    expect(ladderOf(DEFAULT_ROOM_OPTIONS)).toEqual([
      { name: 'high', width: 1280, height: 720, bitrateKbps: 1500, fps: 30 },
      { name: 'medium', width: 640, height: 360, bitrateKbps: 500, fps: 30 },
      { name: 'low', width: 320, height: 180, bitrateKbps: 150, fps: 20 },
    ]);
  });
  it('uses the room option, sorted by bitrate descending', () => {
    const options = {
      ...DEFAULT_ROOM_OPTIONS,
      renditions: [
        { name: 'tiny', width: 256, height: 144, bitrateKbps: 120, fps: 15 },
        { name: 'sd', width: 854, height: 480, bitrateKbps: 900, fps: 30 },
      ],
    };
    expect(ladderOf(options).map((r) => r.name)).toEqual(['high', 'sd', 'tiny']);
  });
  it('is high alone for renditions: []', () => {
    expect(ladderOf({ ...DEFAULT_ROOM_OPTIONS, renditions: [] })).toEqual([{ name: 'high', width: 1280, height: 720, bitrateKbps: 1500, fps: 30 }]);
  });
});

describe('validateRenditions', () => {
  it('accepts [] (everyone gets high)', () => {
    expect(validateRenditions([], room720)).toEqual([]);
  });
  it('fills in fps: at most 20 below a quarter of the room pixels, else the room fps', () => {
    expect(
      validateRenditions(
        [
          { name: 'sd', width: 854, height: 480, bitrateKbps: 900 },
          { name: 'quarter', width: 640, height: 360, bitrateKbps: 500 },
          { name: 'low', width: 320, height: 180, bitrateKbps: 150 },
        ],
        room720,
      ),
    ).toEqual([
      { name: 'sd', width: 854, height: 480, bitrateKbps: 900, fps: 30 },
      { name: 'quarter', width: 640, height: 360, bitrateKbps: 500, fps: 30 },
      { name: 'low', width: 320, height: 180, bitrateKbps: 150, fps: 20 },
    ]);
    expect(validateRenditions([{ name: 'low', width: 320, height: 180, bitrateKbps: 150 }], { ...room720, fps: 15 })[0].fps).toBe(15);
  });
  it('returns the rungs by bitrate descending', () => {
    const rungs = validateRenditions(
      [
        { name: 'low', width: 320, height: 180, bitrateKbps: 150, fps: 15 },
        { name: 'medium', width: 640, height: 360, bitrateKbps: 500, fps: 30 },
      ],
      room720,
    );
    expect(rungs.map((r) => r.name)).toEqual(['medium', 'low']);
  });
  it('accepts a sensible ladder for a 3840x2160 room', () => {
    expect(validateRenditions([{ name: 'hd', width: 1920, height: 1080, bitrateKbps: 3000, fps: 30 }], room4k)).toHaveLength(1);
  });

  const rung = (extra: Record<string, unknown> = {}) => ({ name: 'medium', width: 640, height: 360, bitrateKbps: 500, fps: 30, ...extra });
  it.each([
    ['not an array', { name: 'low' }, room720, 'renditions must be an array'],
    ['null', null, room720, 'renditions must be an array'],
    ['a string', 'low', room720, 'renditions must be an array'],
    ['a rung that is not an object', [42], room720, 'renditions[0] must be an object'],
    ['0x0', [rung({ width: 0, height: 0 })], room720, 'renditions[0] ("medium"): width must be an even integer from 96 to 1280'],
    ['a height below 54', [rung({ height: 36 })], room720, '("medium"): height must be an even integer from 54 to 720'],
    ['an odd width', [rung({ width: 641 })], room720, '("medium"): width must be an even integer'],
    ['a fractional bitrate', [rung({ bitrateKbps: 499.5 })], room720, '("medium"): bitrateKbps must be an integer'],
    ['a width larger than the room', [rung({ width: 1920, height: 1080 })], room720, "width must be an even integer from 96 to 1280 (the room's width is 1280)"],
    ['4K in a 720p room', [rung({ width: 3840, height: 2160, bitrateKbps: 100 })], room720, '("medium"): width must be an even integer from 96 to 1280'],
    ['100 kbps at 1080p in a 4K room', [rung({ width: 1920, height: 1080, bitrateKbps: 100 })], room4k, 'bitrateKbps 100 is too low for 1920x1080 at 30 fps'],
    ['100 kbps at 4K in a 4K room', [rung({ width: 3840, height: 2160, bitrateKbps: 100 })], room4k, "3840x2160 must be smaller than the room's 3840x2160 (high)"],
    ['far too many bits for a small rung', [rung({ width: 160, height: 90, bitrateKbps: 1000 })], room720, 'bitrateKbps 1000 is too high for 160x90 at 30 fps'],
    ['the room size itself', [rung({ width: 1280, height: 720 })], room720, "1280x720 must be smaller than the room's 1280x720"],
    ['a bitrate not below the room', [rung({ bitrateKbps: 1500 })], room720, "bitrateKbps must be an integer from 50 to 1499 (below the room's videoBitrateKbps, 1500)"],
    ['a bitrate below 50', [rung({ width: 96, height: 54, bitrateKbps: 40 })], room720, 'bitrateKbps must be an integer from 50'],
    ['an fps above the room', [rung({ fps: 60 })], room720, '("medium"): fps must be an integer from 5 to 30'],
    ['an fps below 5', [rung({ fps: 1 })], room720, '("medium"): fps must be an integer from 5 to 30'],
    ['an unknown field', [rung({ codec: 'vp9' })], room720, 'renditions[0] ("medium"): unknown field(s): codec'],
    ['a bad name', [rung({ name: 'Medium!' })], room720, 'renditions[0]: name must be 1-16 characters'],
    ['a missing name', [{ width: 640, height: 360, bitrateKbps: 500 }], room720, 'renditions[0]: name must be'],
    ['the name high', [rung({ name: 'high' })], room720, 'name "high" is the room\'s own encoding'],
    ['duplicate names', [rung(), rung({ width: 320, height: 180, bitrateKbps: 150 })], room720, 'the name "medium" is used more than once'],
    ['two rungs of one size', [rung(), rung({ name: 'other', bitrateKbps: 400 })], room720, '"other" (640x360 @ 400 kbps) must be smaller in pixels than "medium"'],
    ['a bigger rung with less bitrate', [rung(), rung({ name: 'big', width: 960, height: 540, bitrateKbps: 400 })], room720, '"big" (960x540 @ 400 kbps) must be smaller in pixels than "medium"'],
    ['two rungs of one bitrate', [rung(), rung({ name: 'low', width: 320, height: 180, fps: 20 })], room720, 'have the same bitrateKbps (500)'],
    [
      '20 rungs',
      Array.from({ length: 20 }, (_, i) => rung({ name: `r${i}`, width: 600 - i * 20, height: 340 - i * 10, bitrateKbps: 500 - i * 10 })),
      room720,
      'renditions has 20 rungs; at most 3 are allowed below high',
    ],
  ])('refuses %s', (_what, value, room, message) => {
    expect(() => validateRenditions(value, room)).toThrow(ValidationError);
    expect(() => validateRenditions(value, room)).toThrow(message);
  });
});

describe('the renditions room option', () => {
  it('is left out when absent (the default ladder applies)', () => {
    expect(validateCreateRoom({ name: 'r' }).options).not.toHaveProperty('renditions');
  });
  it('is validated against the size, fps and bitrate given in the same request', () => {
    const { options } = validateCreateRoom({ name: 'r', width: 640, height: 360, fps: 15, videoBitrateKbps: 600, renditions: [{ name: 'low', width: 320, height: 180, bitrateKbps: 200 }] });
    expect(options.renditions).toEqual([{ name: 'low', width: 320, height: 180, bitrateKbps: 200, fps: 15 }]);
    // fine for the default 1280x720 room, too large for this 640x360 one
    expect(() => validateCreateRoom({ name: 'r', width: 640, height: 360, renditions: [{ name: 'sd', width: 854, height: 480, bitrateKbps: 900 }] })).toThrow(
      'width must be an even integer from 96 to 640',
    );
  });
  it('accepts []', () => {
    expect(validateCreateRoom({ name: 'r', renditions: [] }).options.renditions).toEqual([]);
  });
  it('refuses a bad ladder with a ValidationError', () => {
    expect(() => validateCreateRoom({ name: 'r', renditions: 'lots' })).toThrow(ValidationError);
  });
  it('cannot be changed on a running room', () => {
    expect(() => validateRoomUpdate({ renditions: [] })).toThrow('renditions can only be set when the room is created');
    expect(() => validateRoomUpdate({ layout: 'speaker', renditions: [] })).toThrow(ValidationError);
  });
});
