import { startPublisher, type Publisher } from '../test/helpers/synthetic-publisher';
import { startSubscriber, type Subscriber } from '../test/helpers/whep-subscriber';
import { now, sleep } from './measure';
import { treeCpuSeconds } from './proc-cpu';
import type { ServerProcess } from './server-process';

export interface RecordingCost {
  publishers: number;
  baselineCores: number;
  recordingCores: number;
  extraCores: number;
  stopToReadyMs: number[];
}

const TONES = [440, 620, 850, 1170];

/** Server-tree CPU of a 4-publisher room with and without an MP4 recording (video copied), and stop → ready times. */
export async function recordingCost(server: ServerProcess, measureS: number, rounds = 3): Promise<RecordingCost> {
  const name = 'bench-rec';
  await server.admin('POST', '/v1/rooms', { name, width: 1280, height: 720, fps: 30, videoBitrateKbps: 1500 });
  const pubs: Publisher[] = [];
  let viewer: Subscriber | undefined;
  const cpuOver = async (seconds: number) => {
    const c0 = treeCpuSeconds(server.pid).seconds;
    const t0 = now();
    await sleep(seconds * 1000);
    return (treeCpuSeconds(server.pid).seconds - c0) / ((now() - t0) / 1000);
  };
  try {
    for (let i = 0; i < 4; i++) {
      pubs.push(
        await startPublisher({
          whipUrl: `${server.baseUrl}/v1/rooms/${name}/whip`,
          token: await server.token(name, `pub-${i}`),
          color: [60 * i, 200 - 40 * i, 80],
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
    viewer = await startSubscriber({ whepUrl: `${server.baseUrl}/v1/rooms/${name}/whep`, token: await server.token(name, 'viewer') });
    await viewer.waitForFrame(() => true, 15_000);
    await sleep(4000);
    const baseline: number[] = [];
    const withRec: number[] = [];
    const stopToReady: number[] = [];
    for (let round = 0; round < rounds; round++) {
      baseline.push(await cpuOver(measureS / 2));
      const rec = (await server.admin('POST', `/v1/rooms/${name}/recordings`, { format: 'mp4' })).json as { id: string };
      const get = async () => (await server.admin('GET', `/v1/recordings/${rec.id}`)).json as { status: string };
      for (let i = 0; i < 100 && (await get()).status !== 'active'; i++) await sleep(200);
      await sleep(2000);
      withRec.push(await cpuOver(measureS / 2));
      const t0 = now();
      await server.admin('POST', `/v1/recordings/${rec.id}/stop`);
      for (let i = 0; i < 200 && !['ready', 'failed'].includes((await get()).status); i++) await sleep(50);
      stopToReady.push(now() - t0);
      await server.admin('DELETE', `/v1/recordings/${rec.id}`);
      await sleep(1000);
    }
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    return { publishers: 4, baselineCores: med(baseline), recordingCores: med(withRec), extraCores: med(withRec) - med(baseline), stopToReadyMs: stopToReady };
  } finally {
    await viewer?.close();
    await Promise.allSettled(pubs.map((p) => p.close()));
    await server.admin('DELETE', `/v1/rooms/${name}`);
  }
}
