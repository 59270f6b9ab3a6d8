import { gridLayout } from '@app/core';
import { type ColorName, insetRect, meanColor, NAMED_COLORS, nearestNamedColor, type Rgb } from '../helpers/media-probe';
import type { DecodedFrame } from '../helpers/whep-subscriber';
import { type Publisher, startPublisher } from '../helpers/synthetic-publisher';
import type { TestApp } from './app-harness';

/** Publishers of solid colours and tones (320x180 at 15 fps), one after the other, in this join order; each connected (or, on a failure, all closed). */
export async function publishTiles(t: TestApp, room: string, people: ReadonlyArray<{ identity: string; color: ColorName; tone: number }>, toneAmplitude = 0.15): Promise<Publisher[]> {
  const pubs: Publisher[] = [];
  try {
    for (const p of people) {
      const pub = await startPublisher({
        whipUrl: `${t.baseUrl}/v1/rooms/${room}/whip`,
        token: await t.token(room, p.identity),
        color: NAMED_COLORS[p.color] as Rgb,
        toneHz: p.tone,
        toneAmplitude,
        width: 320,
        height: 180,
        fps: 15,
        gop: 15,
      });
      pubs.push(pub);
      await pub.connected();
    }
  } catch (err) {
    // the caller never sees these publishers, so its afterAll cannot close them: their peers' ICE sockets and ffmpeg
    // children would keep the test process alive
    await Promise.allSettled(pubs.map((p) => p.close()));
    throw err;
  }
  return pubs;
}

/** The outputs' test room: "red" (440 Hz) and "green" (660 Hz) publishing 320x180 at 15 fps, in that join order. */
export function publishRedGreen(t: TestApp, room: string): Promise<Publisher[]> {
  return publishTiles(t, room, [
    { identity: 'red', color: 'red', tone: 440 },
    { identity: 'green', color: 'green', tone: 660 },
  ], 0.2);
}

/** Four publishers of distinct colours and tones: the 2x2 grid the adaptive and fan-out tests watch. */
export const FOUR_PEOPLE: ReadonlyArray<{ identity: string; color: ColorName; tone: number }> = [
  { identity: 'alice', color: 'red', tone: 440 },
  { identity: 'bob', color: 'green', tone: 620 },
  { identity: 'carol', color: 'blue', tone: 850 },
  { identity: 'dave', color: 'yellow', tone: 1170 },
];

/** The colour in the middle of each of `count` grid tiles of a `w`x`h` mix, as a decoded (scaled) frame shows them. */
export function gridTileColors(frame: DecodedFrame, count: number, w: number, h: number): ColorName[] {
  const sx = frame.width / w;
  const sy = frame.height / h;
  return gridLayout(count, w, h).map((r) => nearestNamedColor(meanColor(frame, insetRect({ x: r.x * sx, y: r.y * sy, w: r.w * sx, h: r.h * sy }, 0.3))));
}
