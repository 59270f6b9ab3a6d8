import { DEFAULT_SOURCE_ASPECT, type Fit, gridLayout, type Rect } from './layout';

/** The composite's arrangement. */
export const LAYOUTS = ['grid', 'speaker', 'presentation', 'single'] as const;
export type LayoutName = (typeof LAYOUTS)[number];

export type SourceKind = 'camera' | 'screen';

/** Something that can have a tile: a publisher's camera (with or without video) or its screen share. */
export interface LayoutSource {
  id: string;
  identity: string;
  kind: SourceKind;
}

export interface LayoutRequest {
  layout: LayoutName;
  /** In join order. */
  sources: readonly LayoutSource[];
  activeIdentity?: string;
  pinnedIdentity?: string;
  width: number;
  height: number;
  /** How camera tiles are filled (default `cover`); screen shares are always `contain`. */
  fit?: Fit;
  /** The sources' shape (w/h) the grid and strips are sized for (default 16:9). */
  aspect?: number;
}

export interface PlacedTile {
  id: string;
  rect: Rect;
  /** How the source fills `rect`: see tileFit. */
  fit: Fit;
  /** The large tile of speaker/presentation/single layouts. */
  main?: boolean;
}

const even = (v: number): number => Math.max(0, Math.floor(v / 2) * 2);

/** Cameras fill their tile as the room says (`cover` by default); a screen share always shows whole (`contain`): its edges matter. */
export function tileFit(kind: SourceKind, roomFit: Fit = 'cover'): Fit {
  return kind === 'screen' ? 'contain' : roomFit;
}

/**
 * Which source gets the large tile. `presentation`: the pinned identity's screen share, else any screen share (the
 * latest), else the pinned identity's camera, else the active speaker. `speaker` and `single`: the pinned identity's
 * camera, else the active speaker's, else the first camera. Falls back to the first source.
 */
export function mainSource(r: Pick<LayoutRequest, 'layout' | 'sources' | 'activeIdentity' | 'pinnedIdentity'>): LayoutSource | undefined {
  const { sources, pinnedIdentity, activeIdentity } = r;
  const find = (identity: string | undefined, kind: SourceKind) => (identity === undefined ? undefined : sources.find((s) => s.identity === identity && s.kind === kind));
  const screens = sources.filter((s) => s.kind === 'screen');
  if (r.layout === 'presentation') {
    const chosen = find(pinnedIdentity, 'screen') ?? screens[screens.length - 1] ?? find(pinnedIdentity, 'camera') ?? find(activeIdentity, 'camera');
    if (chosen) return chosen;
  } else {
    const chosen = find(pinnedIdentity, 'camera') ?? find(pinnedIdentity, 'screen') ?? find(activeIdentity, 'camera');
    if (chosen) return chosen;
  }
  return sources.find((s) => s.kind === 'camera') ?? sources[0];
}

/**
 * `n` tiles of aspect `aspect` (w/h) in a strip of `length`×`thickness` pixels (horizontal when `horizontal`), as large
 * as fits, centred along the strip. Rectangles are relative to the strip and even.
 */
export function stripLayout(n: number, length: number, thickness: number, horizontal: boolean, aspect = 16 / 9): Rect[] {
  if (n <= 0) return [];
  // along the strip each tile takes min(its natural size, an equal share of the length)
  const natural = horizontal ? thickness * aspect : thickness / aspect;
  const along = Math.max(2, even(Math.min(natural, length / n)));
  const across = Math.max(2, even(horizontal ? Math.min(thickness, along / aspect) : Math.min(thickness, along * aspect)));
  const start = even((length - along * n) / 2);
  const offAcross = even((thickness - across) / 2);
  const rects: Rect[] = [];
  for (let i = 0; i < n; i++) {
    const a = start + i * along;
    rects.push(horizontal ? { x: a, y: offAcross, w: along, h: across } : { x: offAcross, y: a, w: across, h: along });
  }
  return rects;
}

/**
 * The composite: every visible source's tile, in output pixels, all even, each with how its source fills it (tileFit).
 * - `grid`: every source in join order (see gridLayout: the shape with the largest tiles of the sources' aspect, centred).
 * - `speaker`: the main source large on top, the others in a strip along the bottom (a fifth of the height).
 * - `presentation`: the main source (usually a screen share) large on the left, the others in a column on the right.
 * - `single`: only the main source, full frame.
 * With one source, every layout is that source full frame.
 */
export function compositeLayout(r: LayoutRequest): PlacedTile[] {
  const { sources, width, height } = r;
  const aspect = r.aspect ?? DEFAULT_SOURCE_ASPECT;
  const place = (s: LayoutSource, rect: Rect, main?: boolean): PlacedTile => ({ id: s.id, rect, fit: tileFit(s.kind, r.fit), ...(main ? { main } : {}) });
  if (sources.length === 0) return [];
  if (r.layout === 'grid') return gridLayout(sources.length, width, height, aspect).map((rect, i) => place(sources[i], rect));
  const main = mainSource(r)!;
  const full: Rect = { x: 0, y: 0, w: even(width), h: even(height) };
  if (r.layout === 'single' || sources.length === 1) return [place(main, full, true)];
  const others = sources.filter((s) => s !== main);
  if (r.layout === 'speaker') {
    const stripH = even(height / 5);
    const mainRect: Rect = { x: 0, y: 0, w: full.w, h: even(height - stripH) };
    const strip = stripLayout(others.length, full.w, stripH, true, aspect);
    return [place(main, mainRect, true), ...others.map((s, i) => place(s, { ...strip[i], y: strip[i].y + mainRect.h }))];
  }
  // presentation: a column on the right, a fifth of the width
  const colW = even(width / 5);
  const mainRect: Rect = { x: 0, y: 0, w: even(width - colW), h: full.h };
  const column = stripLayout(others.length, full.h, colW, false, aspect);
  return [place(main, mainRect, true), ...others.map((s, i) => place(s, { ...column[i], x: column[i].x + mainRect.w }))];
}
