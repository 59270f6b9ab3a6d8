import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { signRoomToken } from '@app/core';
import type { Page } from 'playwright-core';
import { meanColor, nearestNamedColor, NAMED_COLORS, type Rgb } from '../helpers/media-probe';
import { startPublisher, type Publisher } from '../helpers/synthetic-publisher';
import { type DecodedFrame, startSubscriber, type Subscriber } from '../helpers/whep-subscriber';
import { ARTIFACTS_DIR } from '../support/frames';
import { audioStats, type Browser, launchChromium, sampleVideo } from '../support/browser';
import { startTestApp, type TestApp, waitFor } from '../support/app-harness';

/**
 * The web client in a real browser (Debian's Chromium, headless, fake camera and microphone): two people join a
 * meeting, see and hear the mix, one leaves and the other's mix follows; a Node WHIP publisher and the browser
 * interoperate both ways.
 */
const ROOM = 'web-e2e';
const BACKGROUND: Rgb = [32, 32, 40];
const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

describe('web client in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  let nodePub: Publisher | undefined;
  let nodeSub: Subscriber | undefined;

  const join = async (name: string, mode: 'camera' | 'watch') => {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.warn(`page error (${name}): ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && console.warn(`console (${name}): ${m.text()}`));
    await page.goto(`${t.baseUrl}/?room=${ROOM}`);
    await page.fill('#name', name);
    await page.click(mode === 'camera' ? '#join-camera' : '#join-watch');
    await page.waitForSelector('#meeting:not([hidden])', { timeout: 15_000 }).catch(async (e: Error) => {
      throw new Error(`${name} could not join: status "${await page.textContent('#status')}", error "${await page.textContent('#error')}" (${e.message.split('\n')[0]})`);
    });
    return page;
  };

  /** Waits until the page plays the mix: a picture, time advancing, not a flat or black frame. */
  const waitPlaying = async (page: Page) => {
    const first = await waitFor(async () => {
      const s = await sampleVideo(page);
      return s.width > 0 && s.currentTime > 0 ? s : undefined;
    }, 15_000, 'the mix to play');
    // a viewer starts on a lower rendition and moves up to high once a probe shows its link carries it
    const later = await waitFor(async () => {
      const s = await sampleVideo(page);
      return s.currentTime > first.currentTime + 1 && s.width === 1280 ? s : undefined;
    }, 20_000, 'the mix time to advance, on high');
    expect(later.width).toBe(1280);
    expect(later.height).toBe(720);
    expect(later.lumaStd).toBeGreaterThan(5); // not black, not a flat colour: real tiles
    return later;
  };

  beforeAll(async () => {
    t = await startTestApp();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await nodePub?.close();
    await nodeSub?.close();
    await browser?.close();
    await t?.close();
  });

  it('two people join, each sees the mix playing and hears the other', async () => {
    alice = await join('Alice', 'camera');
    bob = await join('Bob', 'camera');
    await waitPlaying(alice);
    await waitPlaying(bob);
    // Both cameras are in the mix: two tiles side by side.
    const room = (await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { numPublishers: number; numSubscribers: number; participants: Array<{ displayName?: string }> };
    expect(room.numPublishers).toBe(2);
    expect(room.numSubscribers).toBe(2);
    expect(room.participants.map((p) => p.displayName).sort()).toEqual(['Alice', 'Bob']);
    // Each hears the other's fake microphone (a beep), through their own mix-minus stream.
    for (const page of [alice, bob]) {
      const a0 = await audioStats(page);
      await waitFor(async () => (await audioStats(page)).energy > a0.energy, 8_000, 'audio energy to grow');
      // getStats() may report the packet count a moment behind the energy: wait for it too rather than read it once
      await waitFor(async () => (await audioStats(page)).packets > a0.packets, 8_000, 'audio packets to grow');
    }
    expect(await alice.textContent('#status')).toBe('Connected');
    // The participant list comes from the events WebSocket: both names on both pages.
    for (const page of [alice, bob]) {
      await waitFor(async () => (await page.$$eval('#people li .name', (els) => els.map((e) => e.textContent?.replace(' (you)', '')).sort().join())) === 'Alice,Bob', 8_000, 'the participant list to show Alice and Bob');
    }
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await alice.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-client.png') });
  });

  it("one leaves and the other's mix follows", async () => {
    // Two tiles: two 16:9 tiles side by side in the middle band of the 16:9 mix, so the top band is background.
    const top = { top: [0.05, 0.03, 0.4, 0.12] as [number, number, number, number] };
    expect(dist((await sampleVideo(alice, top)).regions.top, BACKGROUND)).toBeLessThan(25);
    await bob.click('#leave');
    await bob.waitForSelector('#join:not([hidden])');
    expect(await bob.textContent('#status')).toBe('You left the meeting');
    await waitFor(async () => ((await t.admin('GET', `/v1/rooms/${ROOM}`)).json as { numPublishers: number }).numPublishers === 1, 5_000, 'bob to leave');
    // One tile fills the frame: the top band now shows Alice's camera.
    await waitFor(async () => dist((await sampleVideo(alice, top)).regions.top, BACKGROUND) > 40, 5_000, "alice's mix to become one tile");
    await bob.close();
  });

  it('a Node WHIP publisher and the browser see each other', async () => {
    nodePub = await startPublisher({
      whipUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whip`,
      token: await t.token(ROOM, 'node-red'),
      color: NAMED_COLORS.red as Rgb,
      width: 320,
      height: 180,
      fps: 15,
    });
    // The browser sees the Node publisher's red tile (right half of a 2x1 grid, in the middle band).
    await waitFor(async () => {
      const s = await sampleVideo(alice, { right: [0.6, 0.4, 0.3, 0.2] });
      return nearestNamedColor(s.regions.right) === 'red';
    }, 10_000, 'the browser to show the red Node publisher');
    // A Node WHEP subscriber sees the browser's camera tile (left half): Chromium's fake camera is mostly green.
    nodeSub = await startSubscriber({ whepUrl: `${t.baseUrl}/v1/rooms/${ROOM}/whep`, token: await t.token(ROOM, 'node-viewer', { canPublish: false }) });
    await nodeSub.waitForFrame((f) => {
      const [r, g, b] = meanColor(f, { x: f.width * 0.1, y: f.height * 0.35, w: f.width * 0.3, h: f.height * 0.3 });
      return g > r + 30 && g > b + 30;
    }, 15_000);
    // Camera off: the browser stops sending video, and the mix shows a placeholder tile (grey with the name), not a
    // frozen picture; camera on again brings the picture back.
    // the upper part of the left tile (it spans 25–75 % of the mix height, its name is in the middle): placeholder grey when off
    const leftTile = (f: DecodedFrame) => meanColor(f, { x: f.width * 0.1, y: f.height * 0.28, w: f.width * 0.3, h: f.height * 0.1 });
    const cameraTile = (f: DecodedFrame) => meanColor(f, { x: f.width * 0.1, y: f.height * 0.35, w: f.width * 0.3, h: f.height * 0.3 });
    await alice.click('#mute-cam');
    await nodeSub.waitForFrame((f) => {
      const [r, g, b] = leftTile(f);
      return Math.abs(r - 64) < 20 && Math.abs(g - 64) < 20 && Math.abs(b - 72) < 20;
    }, 10_000);
    await alice.click('#mute-cam');
    await nodeSub.waitForFrame((f) => {
      const [r, g, b] = cameraTile(f);
      return g > r + 30 && g > b + 30;
    }, 10_000);
    expect(await alice.textContent('#status')).toBe('Connected');
    await alice.screenshot({ path: path.join(ARTIFACTS_DIR, 'web-client-interop.png') });
  });

  it('explains an expired invitation in words', async () => {
    const expired = signRoomToken({ room: ROOM, identity: 'late', canPublish: false, canSubscribe: true }, t.config.tokenSecret, {
      ttlSeconds: 10,
      nowSeconds: Date.now() / 1000 - 3600,
    }).token;
    const page = await browser.newPage();
    await page.goto(`${t.baseUrl}/?room=${ROOM}#token=${expired}`);
    await page.fill('#name', 'Late');
    await page.click('#join-watch');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toContain('link has expired');
    await page.close();
  });

  it('says what went wrong in plain words: camera refused, camera busy, server busy', async () => {
    const page = await browser.newPage();
    const attempt = async (setup: () => Promise<void>) => {
      await page.goto(`${t.baseUrl}/?room=${ROOM}`);
      await setup();
      await page.fill('#name', 'Eve');
      await page.click('#join-camera');
      await page.waitForSelector('#error:not([hidden])');
      return page.textContent('#error');
    };
    const failCamera = (name: string) => () =>
      page.evaluate((n) => {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('fake', n));
      }, name);
    expect(await attempt(failCamera('NotAllowedError'))).toMatch(/camera or microphone was refused/);
    expect(await attempt(failCamera('NotReadableError'))).toMatch(/busy: another application is using it/);
    // the server answers 503 (admission control: the room or the node is full)
    await page.route('**/whip?*', (r) =>
      r.fulfill({ status: 503, headers: { 'content-type': 'application/json', 'retry-after': '7' }, body: JSON.stringify({ error: { code: 'capacity_exceeded', message: 'node full', limit: 'max_publishers' } }) }),
    );
    expect(await attempt(async () => undefined)).toMatch(/server is busy.*Try again in 7 s/);
    await page.close();
  });
});

describe('dev token endpoint', () => {
  it('exists only with dev credentials', async () => {
    const prod = await startTestApp({ MCU_API_KEY: 'prodkey', MCU_API_SECRET: 'a-production-secret-123' });
    try {
      const r = await prod.request('POST', '/v1/dev/tokens', { body: JSON.stringify({ room: 'x', identity: 'a' }), headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(404);
      expect((await prod.request('GET', '/')).status).toBe(200); // the page itself is always served
    } finally {
      await prod.close();
    }
    const dev = await startTestApp();
    try {
      const r = await dev.request('POST', '/v1/dev/tokens', { body: JSON.stringify({ room: 'x', identity: 'a' }), headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(201);
      expect(r.json).toMatchObject({ room: 'x', identity: 'a', token: expect.any(String) });
      const bad = await dev.request('POST', '/v1/dev/tokens', { body: JSON.stringify({ room: '../x', identity: 'a' }), headers: { 'content-type': 'application/json' } });
      expect(bad.status).toBe(400);
    } finally {
      await dev.close();
    }
  });
});
