import { gridLayout, type Rect } from '@app/core';
import { colorDistance, type ColorName, meanColor, NAMED_COLORS, nearestNamedColor, type Rgb } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { startSubscriber, type DecodedFrame, type Subscriber } from '../helpers/whep-subscriber';
import { saveFrame } from '../support/frames';
import { startTestApp, type TestApp } from '../support/app-harness';

/**
 * What people see in the mix (issue 16): two people on a 16:9 canvas are two wide 16:9 tiles side by side, centred
 * vertically; camera tiles cover their tile (a 4:3 camera is cropped, no bands), names sit on the picture; `fit:
 * "contain"` brings the bands back (and moves the name onto the picture between them); a screen share always contains.
 * Checked on the decoded mix, near the tiles' edges.
 */
const ROOM = 'e2e-fit';
const W = 1280;
const H = 720;
const BACKGROUND: Rgb = [32, 32, 40];
type Tile = Rect & { identity: string; kind: string; fit: string };

/** A rectangle given as fractions of a tile (in mix pixels), in the decoded frame's pixels. */
const part = (f: DecodedFrame, t: Rect, fx: number, fy: number, fw: number, fh: number): Rect => {
  const sx = f.width / W;
  const sy = f.height / H;
  return { x: (t.x + t.w * fx) * sx, y: (t.y + t.h * fy) * sy, w: t.w * fw * sx, h: t.h * fh * sy };
};
const colorOf = (f: DecodedFrame, r: Rect): ColorName => nearestNamedColor(meanColor(f, r));
const isBackground = (f: DecodedFrame, r: Rect) => colorDistance(meanColor(f, r), BACKGROUND) < 25;

/** Strips along a tile's edges, 1–5 % in from them (the bottom one on the right half: the name is bottom-left). */
const edges = (f: DecodedFrame, t: Rect): Rect[] => [
  part(f, t, 0.05, 0.01, 0.9, 0.04),
  part(f, t, 0.01, 0.1, 0.04, 0.6),
  part(f, t, 0.95, 0.1, 0.04, 0.6),
  part(f, t, 0.5, 0.95, 0.45, 0.04),
];
const filled = (f: DecodedFrame, t: Rect, color: ColorName) => edges(f, t).every((r) => colorOf(f, r) === color) && colorOf(f, part(f, t, 0.3, 0.3, 0.4, 0.4)) === color;

/** White text pixels (every channel bright): only the name labels have them in these pictures. */
function hasText(f: DecodedFrame, r: Rect): boolean {
  for (let y = Math.max(0, Math.floor(r.y)); y < Math.min(f.height, Math.ceil(r.y + r.h)); y++) {
    for (let x = Math.max(0, Math.floor(r.x)); x < Math.min(f.width, Math.ceil(r.x + r.w)); x++) {
      const i = (y * f.width + x) * 3;
      if (Math.min(f.rgb[i], f.rgb[i + 1], f.rgb[i + 2]) > 120) return true;
    }
  }
  return false;
}

describe('the mix fills camera tiles (fit cover / contain)', () => {
  let t: TestApp;
  const pubs: Publisher[] = [];
  let viewer: Subscriber;

  const publish = async (identity: string, color: ColorName, width: number, height: number, source?: 'screen') => {
    const pub = await startPublisher({
      whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip${source ? `?source=${source}` : ''}`,
      token: await t.token(ROOM, identity),
      color: NAMED_COLORS[color] as Rgb,
      audio: false,
      width,
      height,
      fps: 15,
      gop: 15,
    });
    pubs.push(pub);
    await pub.connected();
  };
  const tiles = async () => ((await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { mixer: { tiles: Tile[] } }).mixer.tiles;

  async function waitForMix(what: string, pred: (f: DecodedFrame) => boolean): Promise<DecodedFrame> {
    try {
      return await viewer.waitForFrame(pred, 15_000);
    } catch (e) {
      const f = viewer.latestFrame();
      if (f) saveFrame(f, `fit-${what.replace(/\W+/g, '-')}`);
      throw new Error(`${what}: ${(e as Error).message}`);
    }
  }

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await viewer?.close();
    await Promise.allSettled(pubs.map((p) => p.close()));
    await t?.close();
  });

  it('validates fit on create and PATCH, and shows it in GET', async () => {
    expect((await t.admin('POST', '/v1/rooms', { name: 'fit-bad', fit: 'stretch' })).status).toBe(400);
    const contain = await t.admin('POST', '/v1/rooms', { name: 'fit-contain', fit: 'contain' });
    expect(contain.status).toBe(201);
    expect((await t.admin('GET', '/v1/rooms/fit-contain')).json).toMatchObject({ fit: 'contain' });
    const created = await t.admin('POST', '/v1/rooms', { name: ROOM, width: W, height: H, fps: 15 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ fit: 'cover' });
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { fit: 'fill' })).status).toBe(400);
  });

  it('two people: two 16:9 tiles side by side, centred; a 4:3 camera is cropped, not banded; names on the picture', async () => {
    await publish('red', 'red', 320, 180);
    await publish('green', 'green', 320, 240); // 4:3
    viewer = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'viewer', { canPublish: false }), decodeWidth: 640, decodeHeight: 360 });
    const grid = gridLayout(2, W, H);
    expect(grid).toEqual([
      { x: 0, y: 180, w: 640, h: 360 },
      { x: 640, y: 180, w: 640, h: 360 },
    ]);
    expect(await tiles()).toEqual([expect.objectContaining({ identity: 'red', fit: 'cover', ...grid[0] }), expect.objectContaining({ identity: 'green', fit: 'cover', ...grid[1] })]);
    const above: Rect = { x: 0, y: 0, w: W, h: 170 };
    const below: Rect = { x: 0, y: 550, w: W, h: 170 };
    const f = await waitForMix('cover', (f) =>
      filled(f, grid[0], 'red') &&
      filled(f, grid[1], 'green') &&
      isBackground(f, part(f, above, 0.02, 0.05, 0.96, 0.9)) &&
      isBackground(f, part(f, below, 0.02, 0.05, 0.96, 0.9)) &&
      // each name at the bottom-left of its picture, none down at the bottom of the canvas
      grid.every((g) => hasText(f, part(f, g, 0, 0.9, 0.25, 0.1))) &&
      !hasText(f, part(f, below, 0, 0, 1, 1)),
    );
    saveFrame(f, 'fit-cover');
  });

  it('fit "contain": the 4:3 camera shows whole, with bands, and its name moves onto the picture', async () => {
    const patched = await t.admin('PATCH', `/v1/rooms/${ROOM}`, { fit: 'contain' });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ fit: 'contain' });
    const [red, green] = await tiles();
    expect([red.fit, green.fit]).toEqual(['contain', 'contain']);
    // 320x240 in 640x360: a 480x360 picture with 80-pixel bands left and right (an eighth of the tile each)
    const f = await waitForMix('contain', (f) =>
      filled(f, red, 'red') &&
      isBackground(f, part(f, green, 0.01, 0.1, 0.1, 0.8)) &&
      isBackground(f, part(f, green, 0.89, 0.1, 0.1, 0.8)) &&
      colorOf(f, part(f, green, 0.15, 0.05, 0.7, 0.8)) === 'green' &&
      hasText(f, part(f, green, 0.125, 0.9, 0.25, 0.1)) &&
      !hasText(f, part(f, green, 0, 0, 0.12, 1)),
    );
    saveFrame(f, 'fit-contain');
  });

  it('a screen share keeps its whole picture in a cover room', async () => {
    expect((await t.admin('PATCH', `/v1/rooms/${ROOM}`, { fit: 'cover' })).status).toBe(200);
    await publish('red', 'blue', 320, 240, 'screen');
    const all = await tiles();
    expect(all.map((x) => `${x.identity}/${x.kind}/${x.fit}`)).toEqual(['red/camera/cover', 'green/camera/cover', 'red/screen/contain']);
    const [, green, screen] = all;
    const f = await waitForMix('screen share', (f) =>
      filled(f, green, 'green') &&
      isBackground(f, part(f, screen, 0.01, 0.1, 0.1, 0.8)) &&
      colorOf(f, part(f, screen, 0.15, 0.05, 0.7, 0.8)) === 'blue' &&
      hasText(f, part(f, screen, 0.125, 0.9, 0.3, 0.1)) &&
      !hasText(f, part(f, screen, 0, 0, 0.12, 1)),
    );
    saveFrame(f, 'fit-screen');
  });
});
