/// <reference lib="dom" />
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium, headless, with a fake camera and microphone and nothing that reaches the network. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

export interface Browser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Playwright refuses --user-data-dir in args, so a persistent context gets a fresh temporary profile. `camera`: a y4m
 * file the fake camera plays (in a loop) instead of Chromium's green test pattern; the fake screen capture
 * (getDisplayMedia, picked without a prompt) stays Chromium's pattern.
 */
export async function launchChromium(opts: { camera?: string; viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'mcu-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...(opts.camera ? [`--use-file-for-fake-video-capture=${opts.camera}`] : [])],
    viewport: opts.viewport ?? { width: 1100, height: 860 },
  });
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface VideoSample {
  width: number;
  height: number;
  currentTime: number;
  /** Mean RGB of the whole frame and of named regions (fractions of the frame). */
  mean: [number, number, number];
  regions: Record<string, [number, number, number]>;
  /** Standard deviation of luma over the frame: ~0 for a flat or black picture. */
  lumaStd: number;
}

/** Draws the page's <video id="mix"> (or another <video> by id) to a canvas and measures it. */
export async function sampleVideo(page: Page, regions: Record<string, [number, number, number, number]> = {}, videoId = 'mix'): Promise<VideoSample> {
  return page.evaluate(([regs, id]) => {
    const v = document.getElementById(id) as HTMLVideoElement;
    const w = v.videoWidth;
    const h = v.videoHeight;
    const mean = (d: Uint8ClampedArray): [number, number, number] => {
      const s = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) {
        s[0] += d[i];
        s[1] += d[i + 1];
        s[2] += d[i + 2];
      }
      const n = d.length / 4 || 1;
      return [s[0] / n, s[1] / n, s[2] / n];
    };
    if (!w || !h) return { width: 0, height: 0, currentTime: v.currentTime, mean: [0, 0, 0] as [number, number, number], regions: {}, lumaStd: 0 };
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const ctx = c.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(v, 0, 0, w, h);
    const all = ctx.getImageData(0, 0, w, h).data;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < all.length; i += 16) {
      const y = 0.299 * all[i] + 0.587 * all[i + 1] + 0.114 * all[i + 2];
      sum += y;
      sq += y * y;
    }
    const n = all.length / 16;
    const out: Record<string, [number, number, number]> = {};
    for (const [name, [x, y, rw, rh]] of Object.entries(regs)) {
      out[name] = mean(ctx.getImageData(Math.floor(x * w), Math.floor(y * h), Math.max(1, Math.floor(rw * w)), Math.max(1, Math.floor(rh * h))).data);
    }
    return { width: w, height: h, currentTime: v.currentTime, mean: mean(all), regions: out, lumaStd: Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2)) };
  }, [regions, videoId] as const);
}

/** Audio received by the page's WHEP connection (inbound-rtp stats). */
export async function audioStats(page: Page): Promise<{ bytes: number; energy: number; packets: number }> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { mcu: { subscribe?: { pc: RTCPeerConnection } } }).mcu.subscribe?.pc;
    let r = { bytes: 0, energy: 0, packets: 0 };
    if (!pc) return r;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') r = { bytes: s.bytesReceived ?? 0, energy: s.totalAudioEnergy ?? 0, packets: s.packetsReceived ?? 0 };
    });
    return r;
  });
}
