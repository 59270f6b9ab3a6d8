import { cpuOver, startLoadedRoom } from './bench-room';
import { median, now, sleep } from './measure';
import type { ServerProcess } from './server-process';

export interface RecordingCost {
  publishers: number;
  baselineCores: number;
  recordingCores: number;
  extraCores: number;
  stopToReadyMs: number[];
}

/** Server-tree CPU of a 4-publisher room with and without an MP4 recording (video copied), and stop → ready times. */
export async function recordingCost(server: ServerProcess, measureS: number, rounds = 3): Promise<RecordingCost> {
  const name = 'bench-rec';
  const room = await startLoadedRoom(server, name);
  try {
    const baseline: number[] = [];
    const withRec: number[] = [];
    const stopToReady: number[] = [];
    for (let round = 0; round < rounds; round++) {
      baseline.push(await cpuOver(server.pid, measureS / 2));
      const rec = (await server.admin('POST', `/v1/rooms/${name}/recordings`, { format: 'mp4' })).json as { id: string };
      const get = async () => (await server.admin('GET', `/v1/recordings/${rec.id}`)).json as { status: string };
      for (let i = 0; i < 100 && (await get()).status !== 'active'; i++) await sleep(200);
      await sleep(2000);
      withRec.push(await cpuOver(server.pid, measureS / 2));
      const t0 = now();
      await server.admin('POST', `/v1/recordings/${rec.id}/stop`);
      for (let i = 0; i < 200 && !['ready', 'failed'].includes((await get()).status); i++) await sleep(50);
      stopToReady.push(now() - t0);
      await server.admin('DELETE', `/v1/recordings/${rec.id}`);
      await sleep(1000);
    }
    return { publishers: 4, baselineCores: median(baseline), recordingCores: median(withRec), extraCores: median(withRec) - median(baseline), stopToReadyMs: stopToReady };
  } finally {
    await room.close();
  }
}
