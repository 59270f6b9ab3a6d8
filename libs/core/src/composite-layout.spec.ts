import { compositeLayout, type LayoutName, type LayoutRequest, type LayoutSource, mainSource, stripLayout, tileFit } from './composite-layout';
import type { Rect } from './layout';

const cams = (n: number): LayoutSource[] => Array.from({ length: n }, (_, i) => ({ id: `p${i}`, identity: `u${i}`, kind: 'camera' as const }));
const req = (layout: LayoutName, sources: LayoutSource[], extra: Partial<LayoutRequest> = {}): LayoutRequest => ({ layout, sources, width: 1280, height: 720, ...extra });
const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function checkSane(tiles: Array<{ rect: Rect }>, width: number, height: number): void {
  for (const { rect: r } of tiles) {
    for (const v of [r.x, r.y, r.w, r.h]) expect(v % 2).toBe(0);
    expect(r.w).toBeGreaterThanOrEqual(2);
    expect(r.h).toBeGreaterThanOrEqual(2);
    expect(r.x).toBeGreaterThanOrEqual(0);
    expect(r.y).toBeGreaterThanOrEqual(0);
    expect(r.x + r.w).toBeLessThanOrEqual(width);
    expect(r.y + r.h).toBeLessThanOrEqual(height);
  }
  for (let i = 0; i < tiles.length; i++) for (let j = i + 1; j < tiles.length; j++) expect(overlaps(tiles[i].rect, tiles[j].rect)).toBe(false);
}

describe('compositeLayout', () => {
  it.each(['grid', 'speaker', 'presentation', 'single'] as const)('%s: no sources, no tiles; one source fills the frame', (layout) => {
    expect(compositeLayout(req(layout, []))).toEqual([]);
    expect(compositeLayout(req(layout, cams(1)))).toEqual([expect.objectContaining({ id: 'p0', rect: { x: 0, y: 0, w: 1280, h: 720 } })]);
  });

  it.each([
    ['grid', [2, 3, 5, 7, 16, 17, 25]],
    ['speaker', [2, 3, 5, 7, 16, 17, 25]],
    ['presentation', [2, 3, 5, 7, 16, 17, 25]],
  ] as const)('%s: every source has a tile, inside the frame, even, no overlaps', (layout, counts) => {
    for (const n of counts) {
      for (const [w, h] of [[1280, 720], [640, 360], [720, 1280], [1000, 1000], [322, 242]]) {
        const tiles = compositeLayout(req(layout, cams(n), { width: w, height: h }));
        expect(tiles.map((t) => t.id).sort()).toEqual(cams(n).map((c) => c.id).sort());
        checkSane(tiles, w, h);
      }
    }
  });

  it('speaker: the active speaker is large on top, the others in a bottom strip in join order', () => {
    const tiles = compositeLayout(req('speaker', cams(4), { activeIdentity: 'u2' }));
    expect(tiles[0]).toEqual({ id: 'p2', rect: { x: 0, y: 0, w: 1280, h: 576 }, fit: 'cover', main: true });
    expect(tiles.slice(1).map((t) => t.id)).toEqual(['p0', 'p1', 'p3']);
    for (const t of tiles.slice(1)) {
      expect(t.rect.y).toBeGreaterThanOrEqual(576);
      expect(t.rect.h).toBeLessThanOrEqual(144);
      expect(t.rect.w * t.rect.h).toBeLessThan((1280 * 576) / 8);
    }
  });

  it('speaker: without an active speaker the first camera is large; a pin wins over the active speaker', () => {
    expect(compositeLayout(req('speaker', cams(3)))[0].id).toBe('p0');
    expect(compositeLayout(req('speaker', cams(3), { activeIdentity: 'u1', pinnedIdentity: 'u2' }))[0].id).toBe('p2');
    // a pin on someone who is not there falls back to the active speaker
    expect(compositeLayout(req('speaker', cams(3), { activeIdentity: 'u1', pinnedIdentity: 'ghost' }))[0].id).toBe('p1');
  });

  it('presentation: a screen share is large (the pinned identity first), the cameras in a right-hand column', () => {
    const sources: LayoutSource[] = [...cams(3), { id: 's1', identity: 'u1', kind: 'screen' }, { id: 's2', identity: 'u2', kind: 'screen' }];
    const latest = compositeLayout(req('presentation', sources));
    expect(latest[0]).toMatchObject({ id: 's2', main: true, rect: { x: 0, y: 0, h: 720 } });
    expect(latest[0].rect.w).toBe(1024);
    for (const t of latest.slice(1)) expect(t.rect.x).toBeGreaterThanOrEqual(1024);
    expect(compositeLayout(req('presentation', sources, { pinnedIdentity: 'u1' }))[0].id).toBe('s1');
    // no screen share: the pinned camera, else the active speaker
    expect(compositeLayout(req('presentation', cams(3), { pinnedIdentity: 'u1', activeIdentity: 'u2' }))[0].id).toBe('p1');
    expect(compositeLayout(req('presentation', cams(3), { activeIdentity: 'u2' }))[0].id).toBe('p2');
  });

  it('single: only the active (or pinned) speaker, full frame', () => {
    expect(compositeLayout(req('single', cams(5), { activeIdentity: 'u3' }))).toEqual([{ id: 'p3', rect: { x: 0, y: 0, w: 1280, h: 720 }, fit: 'cover', main: true }]);
    expect(compositeLayout(req('single', cams(5), { activeIdentity: 'u3', pinnedIdentity: 'u4' }))[0].id).toBe('p4');
  });

  it('grid keeps join order and ignores the active speaker', () => {
    const tiles = compositeLayout(req('grid', cams(5), { activeIdentity: 'u4' }));
    expect(tiles.map((t) => t.id)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(tiles[0].rect).toEqual({ x: 0, y: 120, w: 426, h: 240 });
  });

  it('grid: two people on 1280x720 are two 16:9 tiles side by side, centred vertically', () => {
    expect(compositeLayout(req('grid', cams(2))).map((t) => t.rect)).toEqual([
      { x: 0, y: 180, w: 640, h: 360 },
      { x: 640, y: 180, w: 640, h: 360 },
    ]);
  });

  it('grid and strips follow the sources’ aspect when given', () => {
    expect(compositeLayout(req('grid', cams(2), { aspect: 4 / 3 })).map((t) => t.rect)).toEqual([
      { x: 0, y: 120, w: 640, h: 480 },
      { x: 640, y: 120, w: 640, h: 480 },
    ]);
    const strip = compositeLayout(req('speaker', cams(2), { aspect: 4 / 3 }))[1].rect;
    expect(strip).toEqual({ x: 544, y: 576, w: 192, h: 144 });
  });

  it.each(['grid', 'speaker', 'presentation', 'single'] as const)('%s: cameras cover their tiles (or contain, as the room says); screen shares always contain', (layout) => {
    const sources: LayoutSource[] = [...cams(2), { id: 's1', identity: 'u1', kind: 'screen' }];
    const fits = (fit?: 'cover' | 'contain') => Object.fromEntries(compositeLayout(req(layout, sources, fit ? { fit } : {})).map((t) => [t.id, t.fit]));
    for (const [id, fit] of Object.entries(fits())) expect([id, fit]).toEqual([id, id === 's1' ? 'contain' : 'cover']);
    for (const [id, fit] of Object.entries(fits('contain'))) expect([id, fit]).toEqual([id, 'contain']);
  });

  it('tileFit', () => {
    expect(tileFit('camera')).toBe('cover');
    expect(tileFit('camera', 'contain')).toBe('contain');
    expect(tileFit('screen', 'cover')).toBe('contain');
  });

  it('mainSource prefers cameras for speaker layouts even when a screen share exists', () => {
    const sources: LayoutSource[] = [{ id: 's0', identity: 'u0', kind: 'screen' }, ...cams(2)];
    expect(mainSource({ layout: 'speaker', sources, activeIdentity: 'u1' })?.id).toBe('p1');
    expect(mainSource({ layout: 'speaker', sources })?.id).toBe('p0');
  });
});

describe('stripLayout', () => {
  it('keeps 16:9 tiles at the strip thickness while they fit, centred', () => {
    const r = stripLayout(3, 1280, 144, true);
    expect(r.map((t) => t.w)).toEqual([256, 256, 256]);
    expect(r[0]).toEqual({ x: 256, y: 0, w: 256, h: 144 });
  });
  it('shrinks tiles to share the length when too many', () => {
    const r = stripLayout(24, 1280, 144, true);
    expect(r[23].x + r[23].w).toBeLessThanOrEqual(1280);
    expect(r[0].w).toBe(52);
    expect(r[0].h).toBe(28);
  });
  it('vertical strips stack down the column', () => {
    const r = stripLayout(2, 720, 256, false);
    expect(r).toEqual([
      { x: 0, y: 216, w: 256, h: 144 },
      { x: 0, y: 360, w: 256, h: 144 },
    ]);
  });
});
