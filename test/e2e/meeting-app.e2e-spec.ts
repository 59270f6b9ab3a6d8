import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { type ColorName, nearestNamedColor } from '../helpers/media-probe';
import { probe } from '../support/media-file';
import { type Browser, launchChromium, sampleVideo } from '../support/browser';
import { startTestApp, type TestApp, waitFor } from '../support/app-harness';

/**
 * The web client as a meeting app (issue 16), in Debian's Chromium with fake devices: a host page creates a meeting
 * and copies the invitation; two participants join from it (their fake cameras play a red and a blue picture); the host
 * changes the layout, pins, records; the self-view sits on the participant's own tile; a screen share is shown large;
 * the viewer page plays HLS; after a server restart on the same data the participants are back by themselves.
 * Screenshots of the host, participant and viewer pages go to test-artifacts/screenshots/, and to docs/screenshots/
 * (the README's pictures) with UPDATE_SCREENSHOTS=1, so a test run does not change tracked files.
 */
const SHOTS = path.join(__dirname, '..', '..', process.env.UPDATE_SCREENSHOTS === '1' ? 'docs' : 'test-artifacts', 'screenshots');
const W = 640;
const H = 360;
type Tile = { identity: string; kind: string; x: number; y: number; w: number; h: number; main?: boolean };
type RoomView = { participants: Array<{ identity: string; displayName?: string; publisher?: { audioMuted: boolean }; screen?: object; subscriber?: object }>; mixer: { tiles: Tile[] } };

/** A y4m clip of one colour for Chromium's fake camera (it loops the file). */
function y4m(dir: string, color: string): string {
  const file = path.join(dir, `${color}.y4m`);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${color}:s=320x180:r=15`, '-frames:v', '15', '-pix_fmt', 'yuv420p', file]);
  if (r.status !== 0) throw new Error(`ffmpeg could not write ${file}: ${r.stderr}`);
  return file;
}

describe('the web client as a meeting app', () => {
  let t: TestApp;
  let dataDir: string;
  let tmp: string;
  let blueBrowser: Browser; // the host, Blue and the viewer
  let redBrowser: Browser;
  let host: Page;
  let red: Page;
  let blue: Page;
  let room = '';
  let invite = '';
  const ids: Record<string, string> = {};

  const roomView = async () => (await t.admin('GET', `/v1/rooms/${room}`)).json as RoomView;
  const tiles = async () => (await roomView()).mixer.tiles;
  const newPage = async (b: Browser, name: string) => {
    const page = await b.newPage();
    page.on('pageerror', (e) => console.warn(`page error (${name}): ${e.message}`));
    // (failed loads and refused sockets are expected while the server restarts)
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(m.text()) && console.warn(`console (${name}): ${m.text()}`));
    return page;
  };
  /** The colour of a tile's middle in a page's decoded mix. */
  const colorIn = async (page: Page, tile: Tile): Promise<ColorName> => {
    const s = await sampleVideo(page, { c: [(tile.x + tile.w * 0.3) / W, (tile.y + tile.h * 0.25) / H, (tile.w * 0.4) / W, (tile.h * 0.4) / H] });
    return s.width ? nearestNamedColor(s.regions.c) : 'black';
  };
  const boxes = (page: Page) =>
    page.evaluate(() => {
      const r = (id: string) => {
        const b = document.getElementById(id)!.getBoundingClientRect();
        return { x: b.x, y: b.y, w: b.width, h: b.height };
      };
      return { mix: r('mix'), self: r('self-view'), hidden: document.getElementById('self-view')!.hidden };
    });
  /** The self-view's box against the own tile scaled to the <video> (contain: the 16:9 canvas fills the 16:9 element). */
  const selfViewOn = async (page: Page, identity: string) => {
    const tile = (await tiles()).find((x) => x.identity === identity && x.kind === 'camera');
    const b = await boxes(page);
    if (!tile || b.hidden) return undefined;
    const s = Math.min(b.mix.w / W, b.mix.h / H);
    const want = { x: b.mix.x + (b.mix.w - W * s) / 2 + tile.x * s, y: b.mix.y + (b.mix.h - H * s) / 2 + tile.y * s, w: tile.w * s, h: tile.h * s };
    const off = Math.max(...(['x', 'y', 'w', 'h'] as const).map((k) => Math.abs(want[k] - b.self[k])));
    return off <= 1 ? { tile, want, got: b.self } : undefined;
  };
  const join = async (b: Browser, name: string) => {
    const page = await newPage(b, name);
    await page.goto(invite);
    await page.fill('#name', name);
    await page.click('#join-camera');
    await page.waitForSelector('#meeting:not([hidden])', { timeout: 15_000 }).catch(async (e: Error) => {
      throw new Error(`${name} could not join: "${await page.textContent('#status')}", "${await page.textContent('#error')}" (${e.message.split('\n')[0]})`);
    });
    return page;
  };
  const playing = (page: Page) =>
    waitFor(async () => {
      const a = await sampleVideo(page);
      return a.width > 0 && a.currentTime > 0.5 && a.lumaStd > 5;
    }, 15_000, 'the mix to play');

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'mcu-meeting-'));
    dataDir = path.join(tmp, 'data');
    mkdirSync(dataDir);
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestApp({}, { dataDir });
    [blueBrowser, redBrowser] = await Promise.all([launchChromium({ camera: y4m(tmp, 'blue') }), launchChromium({ camera: y4m(tmp, 'red') })]);
    await blueBrowser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.baseUrl });
  });

  // the restart test's new app, awaited here too: if that test times out while the app is still starting, it is
  // closed all the same instead of starting after the file ended
  let restarting: Promise<TestApp> | undefined;
  afterAll(async () => {
    await Promise.allSettled([blueBrowser?.close(), redBrowser?.close()]);
    if (restarting) t = await restarting.catch(() => t);
    await t?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('a host creates a meeting and copies the invitation', async () => {
    host = await newPage(blueBrowser, 'host');
    await host.goto(`${t.baseUrl}/host`);
    await host.waitForSelector('#dev-note:not([hidden])'); // development: the published credentials are filled in
    room = await host.inputValue('#room');
    expect(room).toMatch(/^meeting-/);
    await host.selectOption('#size', '640x360');
    await host.click('#create-button');
    await host.waitForSelector('#panel:not([hidden])', { timeout: 10_000 });
    expect(await host.inputValue('#api-secret')).toBe(''); // the secret is gone; the page holds a room admin token
    expect(host.url()).toContain('/host#token=');
    await host.click('#copy-invite');
    invite = await host.evaluate(() => navigator.clipboard.readText());
    expect(invite).toBe(await host.inputValue('#invite-link'));
    expect(invite).toContain(`/?room=${room}#invite=`);
    expect((await t.admin('GET', `/v1/rooms/${room}`)).json).toMatchObject({ width: W, height: H });
  });

  it('two participants join from the invitation; the host sees them, their mute state and who speaks', async () => {
    [red, blue] = await Promise.all([join(redBrowser, 'Red'), join(blueBrowser, 'Blue')]);
    await Promise.all([playing(red), playing(blue)]);
    for (const p of (await roomView()).participants) ids[p.displayName!] = p.identity;
    expect(Object.keys(ids).sort()).toEqual(['Blue', 'Red']); // one identity each from one link
    await host.waitForFunction(() => document.querySelectorAll('#people li').length === 2, undefined, { timeout: 8000 });
    await blue.click('#mute-mic');
    await host.waitForSelector(`#people li[data-identity="${ids.Blue}"] .badge.muted`, { timeout: 8000 });
    expect((await roomView()).participants.find((p) => p.displayName === 'Blue')?.publisher?.audioMuted).toBe(true);
    await blue.click('#mute-mic');
    await host.waitForSelector(`#people li[data-identity="${ids.Blue}"] .badge.muted`, { state: 'detached', timeout: 8000 });
    // the connection quality: measured, and what the server reports for this subscriber
    await blue.waitForFunction(() => /receiving/.test(document.querySelector('#quality .detail')?.textContent ?? ''), undefined, { timeout: 8000 });
    expect(['good', 'fair', 'poor']).toContain(await blue.getAttribute('#quality', 'data-level'));
  });

  it("the host switches to speaker and pins Red: the participants' mix shows Red large", async () => {
    await host.check('input[name="layout"][value="speaker"]');
    await host.click(`#people li[data-identity="${ids.Red}"] button`);
    const main = await waitFor(async () => (await tiles()).find((x) => x.main && x.identity === ids.Red), 8000, 'Red to be the main tile');
    const small = (await tiles()).find((x) => x.identity === ids.Blue)!;
    expect(main.w * main.h).toBeGreaterThan(4 * small.w * small.h);
    for (const page of [blue, red]) {
      await waitFor(async () => (await colorIn(page, main)) === 'red' && (await colorIn(page, small)) === 'blue', 10_000, 'Red large and Blue small in the mix');
    }
    expect(await host.getAttribute(`#people li[data-identity="${ids.Red}"] button`, 'aria-pressed')).toBe('true');
  });

  it('the self-view sits on the own tile and follows a layout change', async () => {
    const inSpeaker = await waitFor(() => selfViewOn(blue, ids.Blue), 8000, "Blue's self-view on Blue's tile");
    await blue.screenshot({ path: path.join(SHOTS, 'participant.png'), fullPage: true });
    // at phone width: one column, nothing wider than the screen, the self-view still on the tile
    await blue.setViewportSize({ width: 390, height: 844 });
    await waitFor(async () => (await blue.evaluate(() => document.documentElement.scrollWidth)) <= 390 && (await selfViewOn(blue, ids.Blue)), 5000, 'the page to fit a phone');
    await blue.setViewportSize({ width: 1100, height: 860 });
    await host.check('input[name="layout"][value="grid"]');
    const inGrid = await waitFor(async () => {
      const at = await selfViewOn(blue, ids.Blue);
      return at && at.tile.w !== inSpeaker.tile.w ? at : undefined;
    }, 8000, 'the self-view to follow the grid');
    expect(inGrid.got.w).toBeGreaterThan(inSpeaker.got.w);
  });

  it('a participant shares a screen: presentation shows it large; ending it in the browser ends the share', async () => {
    await red.click('#share');
    await waitFor(async () => (await roomView()).participants.some((p) => p.identity === ids.Red && p.screen), 10_000, "Red's screen share");
    await host.check('input[name="layout"][value="presentation"]');
    const main = await waitFor(async () => (await tiles()).find((x) => x.main && x.kind === 'screen'), 8000, 'the screen share as the main tile');
    expect(main.w).toBeGreaterThan(W * 0.6);
    // Chromium's fake screen is its green test pattern; the cameras are red and blue
    await waitFor(async () => (await colorIn(blue, main)) === 'green', 10_000, 'the screen share large in the mix');
    // "Stop sharing" in the browser's bar ends the track: the page ends the share
    await red.evaluate(() => (window as unknown as { mcu: { screen: { stream: MediaStream } } }).mcu.screen.stream.getVideoTracks()[0].dispatchEvent(new Event('ended')));
    await waitFor(async () => !(await roomView()).participants.some((p) => p.screen), 8000, 'the share to end');
    expect(await red.textContent('#share')).toBe('Share screen');
  });

  it('the host records: the download link serves a file ffprobe accepts, listed with its thumbnail and duration', async () => {
    await host.click('#record');
    await host.waitForSelector('#record[aria-pressed="true"]', { timeout: 8000 });
    await host.waitForFunction(() => /active, 0:0[2-9]/.test(document.getElementById('rec-status')?.textContent ?? ''), undefined, { timeout: 15_000 });
    await host.click('#record');
    const item = await host.waitForSelector('#recordings li[data-status="ready"] a.download', { timeout: 20_000 });
    await host.waitForFunction(() => ((document.querySelector('#recordings li[data-status="ready"] img') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0, undefined, { timeout: 8000 });
    expect(await host.textContent('#recordings li[data-status="ready"] .duration')).toMatch(/0:0[2-9]/);
    const res = await fetch(new URL((await item.getAttribute('href'))!, t.baseUrl));
    expect(res.status).toBe(200);
    const file = path.join(tmp, 'recording.mp4');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const info = probe(file);
    expect(info.durationSeconds).toBeGreaterThan(1.5);
    expect(info.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    await host.screenshot({ path: path.join(SHOTS, 'host.png'), fullPage: true });
  });

  it('the viewer page plays HLS, and says when the stream has not started and when it has ended', async () => {
    const viewer = await newPage(blueBrowser, 'viewer');
    await viewer.goto(await host.inputValue('#viewer-link'));
    await viewer.waitForSelector('#notice[data-phase="playing"]', { state: 'attached', timeout: 25_000 });
    const first = await waitFor(async () => {
      const s = await sampleVideo(viewer, {}, 'player');
      return s.width > 0 ? s : undefined;
    }, 10_000, 'a picture');
    const later = await waitFor(async () => {
      const s = await sampleVideo(viewer, {}, 'player');
      return s.currentTime > first.currentTime + 1 ? s : undefined;
    }, 10_000, 'the HLS time to advance');
    expect(Math.max(...later.mean)).toBeGreaterThan(40); // not black: the red and blue tiles
    await viewer.screenshot({ path: path.join(SHOTS, 'viewer.png') });
    await viewer.close();

    // a meeting nobody has joined yet, then deleted
    expect((await t.admin('POST', '/v1/rooms', { name: 'quiet' })).status).toBe(201);
    const link = (await t.admin('POST', '/v1/rooms/quiet/tokens', { identity: 'viewers', invite: true, canPublish: false })).json as { token: string };
    const quiet = await newPage(blueBrowser, 'quiet viewer');
    await quiet.goto(`${t.baseUrl}/watch?room=quiet#invite=${link.token}`);
    await quiet.waitForSelector('#notice[data-phase="waiting"]', { timeout: 8000 });
    expect(await quiet.textContent('#notice')).toContain('has not started');
    expect((await t.admin('DELETE', '/v1/rooms/quiet')).status).toBe(204);
    await quiet.waitForSelector('#notice[data-phase="ended"]', { timeout: 8000 });
    expect(await quiet.textContent('#notice')).toContain('has ended');
    await quiet.close();
  });

  it('after a server restart on the same data, the participants are back in the room by themselves within 15 s', async () => {
    const started = Date.now();
    const port = Number(new URL(t.baseUrl).port);
    await t.close({ keepData: true });
    const down = Date.now();
    restarting = startTestApp({}, { dataDir, port });
    t = await restarting;
    const up = Date.now();
    // the room and the tokens survived: the room's options are in Redis, the token key is the same
    expect((await t.admin('GET', `/v1/rooms/${room}`)).json).toMatchObject({ width: W, height: H, layout: 'presentation' });
    await waitFor(async () => {
      const v = await roomView();
      return ['Red', 'Blue'].every((n) => v.participants.some((p) => p.displayName === n && p.publisher && p.subscriber));
    }, 15_000 - (Date.now() - started), 'Red and Blue to publish and watch again');
    for (const page of [red, blue]) await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Connected', undefined, { timeout: 5000 });
    const back = Date.now() - started;
    const log = (await blue.evaluate(() => (window as unknown as { mcu: { log: string[] } }).mcu.log)).map((l) => l.replace(/^(\d+)/, (ms) => `+${Number(ms) - started} ms`));
    console.log(`restart: the server stopped in ${down - started} ms and started in ${up - down} ms; participants back ${back} ms after the restart began; Blue's page: ${log.join('; ')}`);
    await playing(blue);
    expect(await blue.isHidden('#error')).toBe(true);
  }, 120_000 /* its own budget: a close that finishes a recording, a start, and 15 s for the pages */);
});
