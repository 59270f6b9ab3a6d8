/**
 * The rendition ladder of a room: its composed video encoded once per rung and shared by every subscriber on that rung.
 * `high` is the room's own size, frame rate and bitrate; the rungs below it come from the `renditions` room option
 * (or `defaultRenditions` when it is absent). Pure: no framework, no media.
 */
import { ValidationError } from './errors';

export interface RenditionSpec {
  name: string;
  width: number;
  height: number;
  bitrateKbps: number;
  fps: number;
}

/** The room settings a ladder is derived from and validated against. */
export interface LadderRoom {
  width: number;
  height: number;
  fps: number;
  videoBitrateKbps: number;
}

export const HIGH_RENDITION = 'high';
export const MAX_LOWER_RENDITIONS = 3;
export const RENDITION_NAME_RE = /^[a-z][a-z0-9_-]{0,15}$/;
export const MIN_RENDITION_WIDTH = 96;
export const MIN_RENDITION_HEIGHT = 54;
export const MIN_RENDITION_BITRATE_KBPS = 50;
/** Bits per pixel per frame a rung may have: below the floor the picture is mush, above the ceiling it is wasted. */
export const MIN_BITS_PER_PIXEL = 0.005;
export const MAX_BITS_PER_PIXEL = 1;
/** A default rung smaller than this is not worth encoding. */
const DEFAULT_MIN_WIDTH = 160;
const DEFAULT_MIN_HEIGHT = 90;
/** Frame rate of the small rungs: a small picture gains little from more, and the encoder saves the work. */
const LOW_FPS = 20;
const RUNG_FIELDS = ['name', 'width', 'height', 'bitrateKbps', 'fps'] as const;

const even = (n: number): number => Math.floor(n / 2) * 2;
const pixels = (r: { width: number; height: number }): number => r.width * r.height;
const bitsPerPixel = (r: RenditionSpec): number => (r.bitrateKbps * 1000) / (pixels(r) * r.fps);

/**
 * The rungs below `high` for a room with no `renditions` option: `medium` at half the width and height and a third of
 * the bitrate, `low` at a quarter of the width and height, a tenth of the bitrate and at most 20 fps (both at least
 * 100 kbps). For 1280x720/30/1500: medium 640x360 @ 500 kbps 30 fps, low 320x180 @ 150 kbps 20 fps. A rung is left
 * out when it would be smaller than 160x90 or not smaller (in pixels and bitrate) than the rung above; its bitrate is
 * kept within the bits-per-pixel bounds `validateRenditions` applies, so the defaults always pass it.
 */
export function defaultRenditions(room: LadderRoom): RenditionSpec[] {
  const candidates: RenditionSpec[] = [
    { name: 'medium', width: even(room.width / 2), height: even(room.height / 2), bitrateKbps: Math.max(100, Math.round(room.videoBitrateKbps / 3)), fps: room.fps },
    { name: 'low', width: even(room.width / 4), height: even(room.height / 4), bitrateKbps: Math.max(100, Math.round(room.videoBitrateKbps / 10)), fps: Math.min(room.fps, LOW_FPS) },
  ];
  const rungs: RenditionSpec[] = [];
  let above: RenditionSpec = highOf(room);
  for (const c of candidates) {
    if (c.width < DEFAULT_MIN_WIDTH || c.height < DEFAULT_MIN_HEIGHT) continue;
    const perKbps = (pixels(c) * c.fps) / 1000;
    const rung = { ...c, bitrateKbps: Math.min(Math.max(c.bitrateKbps, Math.ceil(perKbps * MIN_BITS_PER_PIXEL)), Math.floor(perKbps * MAX_BITS_PER_PIXEL)) };
    if (pixels(rung) >= pixels(above) || rung.bitrateKbps >= above.bitrateKbps || rung.bitrateKbps < MIN_RENDITION_BITRATE_KBPS) continue;
    rungs.push(rung);
    above = rung;
  }
  return rungs;
}

function highOf(room: LadderRoom): RenditionSpec {
  return { name: HIGH_RENDITION, width: room.width, height: room.height, bitrateKbps: room.videoBitrateKbps, fps: room.fps };
}

/** The room's full ladder: `high` (the room's own encoding) first, then its lower rungs, by bitrate descending. */
export function ladderOf(options: LadderRoom & { renditions?: readonly RenditionSpec[] }): RenditionSpec[] {
  const lower = options.renditions ?? defaultRenditions(options);
  return [highOf(options), ...[...lower].sort((a, b) => b.bitrateKbps - a.bitrateKbps).map((r) => ({ ...r }))];
}

/**
 * The `renditions` room option: up to 3 rungs below `high`, each `{name, width, height, bitrateKbps, fps?}`, or `[]`
 * (no lower rungs: everyone gets high). Checked against the room's final size, frame rate and bitrate. Returns the
 * rungs with their fps filled in, by bitrate descending; throws ValidationError naming the rung and field otherwise.
 */
export function validateRenditions(value: unknown, room: LadderRoom): RenditionSpec[] {
  if (!Array.isArray(value)) {
    throw new ValidationError('renditions must be an array of {name, width, height, bitrateKbps, fps?} (or [] for no rungs below high)');
  }
  if (value.length > MAX_LOWER_RENDITIONS) {
    throw new ValidationError(`renditions has ${value.length} rungs; at most ${MAX_LOWER_RENDITIONS} are allowed below high`);
  }
  const rungs = value.map((raw, i) => validateRung(raw, i, room));
  const seen = new Set<string>();
  for (const r of rungs) {
    if (seen.has(r.name)) throw new ValidationError(`renditions: the name "${r.name}" is used more than once`);
    seen.add(r.name);
  }
  const sorted = [...rungs].sort((a, b) => b.bitrateKbps - a.bitrateKbps || pixels(b) - pixels(a));
  for (let i = 1; i < sorted.length; i++) {
    const [hi, lo] = [sorted[i - 1], sorted[i]];
    if (lo.bitrateKbps === hi.bitrateKbps) {
      throw new ValidationError(`renditions: "${hi.name}" and "${lo.name}" have the same bitrateKbps (${lo.bitrateKbps}); each rung needs its own`);
    }
    if (pixels(lo) >= pixels(hi)) {
      throw new ValidationError(
        `renditions: "${lo.name}" (${lo.width}x${lo.height} @ ${lo.bitrateKbps} kbps) must be smaller in pixels than "${hi.name}" (${hi.width}x${hi.height} @ ${hi.bitrateKbps} kbps), which has the higher bitrate`,
      );
    }
  }
  return sorted;
}

function validateRung(raw: unknown, index: number, room: LadderRoom): RenditionSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ValidationError(`renditions[${index}] must be an object {name, width, height, bitrateKbps, fps?}`);
  }
  const body = raw as Record<string, unknown>;
  const label = typeof body.name === 'string' && RENDITION_NAME_RE.test(body.name) ? `renditions[${index}] ("${body.name}")` : `renditions[${index}]`;
  const fail: (message: string) => never = (message) => {
    throw new ValidationError(`${label}: ${message}`);
  };
  const unknown = Object.keys(body).filter((k) => !(RUNG_FIELDS as readonly string[]).includes(k));
  if (unknown.length) fail(`unknown field(s): ${unknown.join(', ')}; allowed: ${RUNG_FIELDS.join(', ')}`);

  const name = body.name;
  if (typeof name !== 'string' || !RENDITION_NAME_RE.test(name)) fail('name must be 1-16 characters of a-z, 0-9, "_" or "-", starting with a letter');
  if (name === HIGH_RENDITION) fail('name "high" is the room\'s own encoding; give the rungs below it other names');

  const int = (key: string, min: number, max: number, opts: { even?: boolean } = {}): number => {
    const v = body[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max || (opts.even && v % 2 !== 0)) {
      fail(`${key} must be ${opts.even ? 'an even' : 'an'} integer from ${min} to ${max} (${roomValue(room, key)})`);
    }
    return v as number;
  };
  const width = int('width', MIN_RENDITION_WIDTH, room.width, { even: true });
  const height = int('height', MIN_RENDITION_HEIGHT, room.height, { even: true });
  if (width * height >= pixels(room)) fail(`${width}x${height} must be smaller than the room's ${room.width}x${room.height} (high)`);
  const bitrateKbps = int('bitrateKbps', MIN_RENDITION_BITRATE_KBPS, room.videoBitrateKbps - 1);
  const fps = body.fps === undefined ? (width * height * 4 < pixels(room) ? Math.min(room.fps, LOW_FPS) : room.fps) : int('fps', 5, room.fps);

  const rung: RenditionSpec = { name: name as string, width, height, bitrateKbps, fps };
  const bpp = bitsPerPixel(rung);
  if (bpp < MIN_BITS_PER_PIXEL || bpp > MAX_BITS_PER_PIXEL) {
    const perKbps = (width * height * fps) / 1000;
    fail(
      `bitrateKbps ${bitrateKbps} is ${bpp < MIN_BITS_PER_PIXEL ? 'too low' : 'too high'} for ${width}x${height} at ${fps} fps ` +
        `(${bpp.toFixed(4)} bits per pixel; give ${Math.ceil(perKbps * MIN_BITS_PER_PIXEL)} to ${Math.floor(perKbps * MAX_BITS_PER_PIXEL)} kbps)`,
    );
  }
  return rung;
}

/** What bounds a rung's field: the room's own value. */
function roomValue(room: LadderRoom, key: string): string {
  if (key === 'bitrateKbps') return `below the room's videoBitrateKbps, ${room.videoBitrateKbps}`;
  return `the room's ${key} is ${(room as unknown as Record<string, number>)[key]}`;
}
