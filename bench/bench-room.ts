import { startPublisher, type Publisher } from '../test/helpers/synthetic-publisher';
import { startSubscriber, type Subscriber } from '../test/helpers/whep-subscriber';
import { now, sleep } from './measure';
import { treeCpuSeconds } from './proc-cpu';
import type { ServerProcess } from './server-process';

const TONES = [440, 620, 850, 1170];

export interface LoadedRoom {
  pubs: Publisher[];
  viewer?: Subscriber;
  close(): Promise<void>;
}

/**
 * The output rounds' room: 1280x720 H.264 at 30 fps and 1500 kbps, four 640x360 publishers with a moving bar and a
 * tone each (publisher 0 red, for colour flips), a WHEP viewer that has its first picture, and 4 s to settle.
 */
export async function startLoadedRoom(server: ServerProcess, name: string): Promise<LoadedRoom> {
  await server.admin('POST', '/v1/rooms', { name, width: 1280, height: 720, fps: 30, videoBitrateKbps: 1500 });
  const room: LoadedRoom = {
    pubs: [],
    async close() {
      await room.viewer?.close();
      await Promise.allSettled(room.pubs.map((p) => p.close()));
      await server.admin('DELETE', `/v1/rooms/${name}`);
    },
  };
  try {
    for (let i = 0; i < 4; i++) {
      room.pubs.push(
        await startPublisher({
          whipUrl: `${server.baseUrl}/v1/rooms/${name}/whip`,
          token: await server.token(name, `pub-${i}`),
          color: i === 0 ? [255, 0, 0] : [60 * i, 200 - 40 * i, 80],
          toneHz: TONES[i],
          toneAmplitude: 0.1,
          width: 640,
          height: 360,
          fps: 30,
          gop: 60,
          movingBar: true,
        }),
      );
    }
    room.viewer = await startSubscriber({ whepUrl: `${server.baseUrl}/v1/rooms/${name}/whep`, token: await server.token(name, 'viewer') });
    await room.viewer.waitForFrame(() => true, 15_000);
    await sleep(4000);
    return room;
  } catch (e) {
    await room.close();
    throw e;
  }
}

/** Cores used by the process tree of `pid` over the next `seconds`. */
export async function cpuOver(pid: number, seconds: number): Promise<number> {
  const c0 = treeCpuSeconds(pid).seconds;
  const t0 = now();
  await sleep(seconds * 1000);
  return (treeCpuSeconds(pid).seconds - c0) / ((now() - t0) / 1000);
}
