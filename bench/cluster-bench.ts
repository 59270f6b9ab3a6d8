/**
 * Many nodes on one Redis (issue "Many nodes"): two server processes on one redis-server. Measures
 *  - the time to place a room (`POST /v1/rooms`), when it lands on the node asked and when it is handed to the other node;
 *  - the redirect's overhead: the 307 a WHIP/WHEP POST to the wrong node costs before the client re-POSTs to the right one,
 *    and a whole publisher join through the wrong node vs straight to the right one;
 *  - the time to heal after a node loss: kill -9 of the node hosting a room with a publisher and a viewer, whose clients
 *    re-POST every 200 ms through the surviving node, until the viewer's 201 and until its first decoded frame.
 *
 * Used by bench/run.ts (unless BENCH_CLUSTER=0), or alone: `node dist/bench/cluster-bench.js` after `npm run build`.
 */
import { performance } from 'node:perf_hooks';
import { NAMED_COLORS, type Rgb } from '../test/helpers/media-probe';
import { startPublisher, type Publisher } from '../test/helpers/synthetic-publisher';
import { startSubscriber, type Subscriber } from '../test/helpers/whep-subscriber';
import { type ClusterNode, startCluster, type TestCluster } from '../test/support/cluster';
import { median, sleep } from './measure';

export interface ClusterResult {
  placeLocalMs: number[];
  placeRemoteMs: number[];
  redirectMs: number[];
  /** Publisher POST → connected, straight to the hosting node / through the other node (307 followed). */
  joinDirectMs: number[];
  joinRedirectedMs: number[];
  /** kill -9 → the viewer's re-POST answered 201 on the new node / its first decoded frame. */
  healAnsweredMs: number[];
  healFirstFrameMs: number[];
}

const ms = (t0: number) => performance.now() - t0;

async function timedPlace(c: TestCluster, via: ClusterNode, name: string): Promise<{ ms: number; node: string }> {
  const t0 = performance.now();
  const r = await c.admin(via, 'POST', '/v1/rooms', { name, width: 640, height: 360 });
  if (r.status !== 201) throw new Error(`POST /v1/rooms: ${r.status} ${JSON.stringify(r.json)}`);
  return { ms: ms(t0), node: r.json.node as string };
}

async function joinMs(via: ClusterNode, room: string, token: string, closing: Array<Publisher | Subscriber>): Promise<number> {
  const t0 = performance.now();
  const p = await startPublisher({ whipUrl: `${via.url}/v1/rooms/${room}/whip`, token, color: NAMED_COLORS.red as Rgb, width: 320, height: 180, fps: 15, gop: 15 });
  closing.push(p);
  await p.connected();
  return ms(t0);
}

export async function clusterBench(rounds = 3): Promise<ClusterResult> {
  const c = await startCluster({ nodes: 2 });
  const res: ClusterResult = { placeLocalMs: [], placeRemoteMs: [], redirectMs: [], joinDirectMs: [], joinRedirectedMs: [], healAnsweredMs: [], healFirstFrameMs: [] };
  const closing: Array<Publisher | Subscriber> = [];
  try {
    const [A] = c.nodes;
    for (let i = 0; i < 10; i++) {
      const p = await timedPlace(c, A, `place-${i}`);
      (p.node === A.id ? res.placeLocalMs : res.placeRemoteMs).push(p.ms);
    }
    const rooms = (await c.admin(A, 'GET', '/v1/rooms')).json.rooms as Array<{ name: string; node: string }>;
    for (const r of rooms) await c.admin(A, 'DELETE', `/v1/rooms/${r.name}`);

    // the 307 itself, then whole joins straight and through the wrong node, alternating
    const created = await c.admin(A, 'POST', '/v1/rooms', { name: 'redirect', width: 640, height: 360 });
    const host = c.nodes.find((n) => n.id === created.json.node)!;
    const wrong = c.nodes.find((n) => n !== host)!;
    const token = await c.token(A, 'redirect', 'raw');
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const r = await fetch(`${wrong.url}/v1/rooms/redirect/whip`, { method: 'POST', redirect: 'manual', body: 'v=0\r\n', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      if (r.status !== 307) throw new Error(`expected 307, got ${r.status}`);
      res.redirectMs.push(ms(t0));
    }
    for (let i = 0; i < rounds * 2; i++) {
      const t = await c.token(A, 'redirect', `joiner-${i}`);
      if (i % 2) res.joinRedirectedMs.push(await joinMs(wrong, 'redirect', t, closing));
      else res.joinDirectMs.push(await joinMs(host, 'redirect', t, closing));
      // one publisher at a time, and a pause: a join's burst must not make the next one wait for the room's thread
      await Promise.allSettled(closing.splice(0).map((x) => x.close()));
      await sleep(1500);
    }
    await Promise.allSettled(closing.splice(0).map((x) => x.close()));
    await c.admin(A, 'DELETE', '/v1/rooms/redirect');

    // heal: kill -9 the host, re-POST through the survivor every 200 ms
    for (let round = 0; round < rounds; round++) {
      const name = `heal-${round}`;
      const made = await c.admin(c.nodes[0], 'POST', '/v1/rooms', { name, width: 640, height: 360 });
      const victim = c.nodes.find((n) => n.id === made.json.node)!;
      const survivor = c.nodes.find((n) => n !== victim)!;
      const pubToken = await c.token(survivor, name, 'pub');
      const viewToken = await c.token(survivor, name, 'viewer');
      const pub = await startPublisher({ whipUrl: `${survivor.url}/v1/rooms/${name}/whip`, token: pubToken, color: NAMED_COLORS.green as Rgb, width: 320, height: 180, fps: 15, gop: 15 });
      await pub.connected();
      const v = await startSubscriber({ whepUrl: `${survivor.url}/v1/rooms/${name}/whep`, token: viewToken });
      await v.waitForFrame(() => true, 15_000);
      victim.proc.kill('SIGKILL');
      const t0 = performance.now();
      void pub.close().catch(() => undefined);
      void v.close().catch(() => undefined);
      const retry = async <T extends Publisher | Subscriber>(start: () => Promise<T>): Promise<{ value: T; at: number }> => {
        for (;;) {
          try {
            const value = await start();
            return { value, at: ms(t0) };
          } catch {
            if (ms(t0) > 30_000) throw new Error('no re-join within 30 s');
            await sleep(200);
          }
        }
      };
      const [p2, v2] = await Promise.all([
        retry(() => startPublisher({ whipUrl: `${survivor.url}/v1/rooms/${name}/whip`, token: pubToken, color: NAMED_COLORS.green as Rgb, width: 320, height: 180, fps: 15, gop: 15 })),
        retry(() => startSubscriber({ whepUrl: `${survivor.url}/v1/rooms/${name}/whep`, token: viewToken })),
      ]);
      closing.push(p2.value, v2.value);
      res.healAnsweredMs.push(v2.at);
      await v2.value.waitForFrame(() => true, 20_000);
      res.healFirstFrameMs.push(ms(t0));
      await Promise.allSettled(closing.splice(0).map((x) => x.close()));
      await c.admin(survivor, 'DELETE', `/v1/rooms/${name}`);
      await c.restart(victim);
      await sleep(1500);
    }
  } finally {
    await Promise.allSettled(closing.map((x) => x.close()));
    await c.close();
  }
  return res;
}

const f0 = (v: number[]) => (v.length ? `${median(v).toFixed(0)} ms` : 'n/a');
const f1 = (v: number[]) => (v.length ? `${median(v).toFixed(1)} ms` : 'n/a');

export function clusterMarkdown(r: ClusterResult): string {
  return (
    `| many nodes on one Redis (2 server processes, medians) | |\n|---|---|\n` +
    `| place a room (\`POST /v1/rooms\`): on the node asked / handed to the other node | ${f1(r.placeLocalMs)} (${r.placeLocalMs.length}) / ${f1(r.placeRemoteMs)} (${r.placeRemoteMs.length}) |\n` +
    `| redirect overhead: the 307 of a WHIP POST to the wrong node (${r.redirectMs.length} requests) | ${f1(r.redirectMs)} |\n` +
    `| publisher join (POST → connected): straight to the hosting node / through the other node, 307 followed | ${f0(r.joinDirectMs)} / ${f0(r.joinRedirectedMs)} |\n` +
    `| heal after kill -9 of the hosting node (re-POST every 200 ms through the survivor): viewer's 201 / its first frame (target ≤ 6 s) | ${f0(r.healAnsweredMs)} / ${f0(r.healFirstFrameMs)} (${r.healAnsweredMs.map((v) => (v / 1000).toFixed(1)).join(', ')} s) |`
  );
}

if (require.main === module) {
  clusterBench(Number(process.env.BENCH_CLUSTER_ROUNDS ?? 3)).then(
    (r) => {
      console.log(JSON.stringify(r));
      console.log(clusterMarkdown(r));
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
