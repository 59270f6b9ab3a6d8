import { performance } from 'node:perf_hooks';
import { insetRect, meanColor, nearestNamedColor, NAMED_COLORS, type ColorName, type Rect, type Rgb } from '../test/helpers/media-probe';
import type { Publisher } from '../test/helpers/synthetic-publisher';
import type { DecodedFrame, Subscriber } from '../test/helpers/whep-subscriber';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const median = (v: number[]) => percentile(v, 50);

/**
 * Flips a publisher's colour between two colours `flips` times and measures, for each flip, the time until the
 * subscriber's first decoded frame whose `region` (in decoded pixels) shows the new colour.
 */
export async function flipLatencies(
  pub: Publisher,
  sub: Subscriber,
  region: (f: DecodedFrame) => Rect,
  flips: number,
  colors: [ColorName, ColorName] = ['red', 'blue'],
  gapMs = 700,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < flips; i++) {
    const want = colors[(i + 1) % 2];
    const t0 = pub.setColor(NAMED_COLORS[want] as Rgb);
    try {
      const f = await sub.waitForFrame((fr) => fr.at >= t0 && nearestNamedColor(meanColor(fr, insetRect(region(fr), 0.3))) === want, 3000);
      out.push(f.at - t0);
    } catch {
      /* a lost flip is not a latency sample; reported as missing */
    }
    await sleep(gapMs);
  }
  return out;
}

/** Counts RTP bytes a subscriber receives (all tracks), for downlink bitrate. */
export function countDownlink(sub: Subscriber): { bytes: () => number; videoBytes: () => number } {
  let bytes = 0;
  let videoBytes = 0;
  for (const r of sub.pc.getReceivers()) {
    r.track.onReceiveRtp.subscribe((rtp) => {
      const n = rtp.serializeSize;
      bytes += n;
      if (r.track.kind === 'video') videoBytes += n;
    });
  }
  return { bytes: () => bytes, videoBytes: () => videoBytes };
}

export const now = () => performance.now();
