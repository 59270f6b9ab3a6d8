import { NAMED_COLORS, type Rgb } from '../helpers/media-probe';
import { type Publisher, startPublisher } from '../helpers/synthetic-publisher';
import type { TestApp } from './app-harness';

/** The outputs' test room: "red" (440 Hz) and "green" (660 Hz) publishing 320x180 at 15 fps, in that join order. */
export async function publishRedGreen(t: TestApp, room: string): Promise<Publisher[]> {
  const pubs: Publisher[] = [];
  for (const [identity, tone] of [
    ['red', 440],
    ['green', 660],
  ] as const) {
    pubs.push(
      await startPublisher({
        whipUrl: `${t.baseUrl}/v1/rooms/${room}/whip`,
        token: await t.token(room, identity),
        color: NAMED_COLORS[identity] as Rgb,
        toneHz: tone,
        toneAmplitude: 0.2,
        width: 320,
        height: 180,
        fps: 15,
      }),
    );
  }
  return pubs;
}
