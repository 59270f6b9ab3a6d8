/**
 * A tiny WHIP/WHEP stand-in (node:http + werift) that relays the publisher's RTP to every subscriber unchanged: no mixing,
 * no transcoding. The helpers' self-test uses it, and the benchmark uses it as the "plain decode" latency baseline.
 */
import type { VideoCodec } from '@app/core';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RTCPeerConnection, RTCRtpSender } from 'werift';
import { createPeer, h264Codec, opusCodec, vp8Codec, waitIceGatheringComplete } from './webrtc-peer';

export const STANDIN_TOKEN = 'selftest-token';
const TOKEN = STANDIN_TOKEN;

export interface StandIn {
  whipUrl: string;
  whepUrl: string;
  deletes: string[];
  close(): Promise<void>;
}

/** WHIP in, WHEP out, RTP relayed as is (one publisher at a time is enough here). */
export async function startStandIn(videoCodec: VideoCodec, lossPercent = 0): Promise<StandIn> {
  const codecs = () => ({ video: [videoCodec === 'h264' ? h264Codec() : vp8Codec()], audio: [opusCodec()] });
  const peers = new Map<string, RTCPeerConnection>();
  const outputs = new Map<string, { video: RTCRtpSender; audio: RTCRtpSender }>();
  const deletes: string[] = [];
  let nextId = 1;

  const answer = async (pc: RTCPeerConnection, offer: string): Promise<string> => {
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await waitIceGatheringComplete(pc);
    return pc.localDescription?.sdp ?? '';
  };

  const handle = async (req: http.IncomingMessage, body: string): Promise<[number, Record<string, string>, string]> => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return [401, {}, 'bad token'];
    const id = String(nextId++);
    if (req.method === 'POST' && req.url === '/whip') {
      const pc = createPeer(codecs());
      pc.onTrack.subscribe((track) => {
        track.onReceiveRtp.subscribe((rtp) => {
          const buf = rtp.serialize();
          for (const out of outputs.values()) void (track.kind === 'video' ? out.video : out.audio).sendRtp(buf);
        });
      });
      peers.set(id, pc);
      return [201, { Location: `/resource/${id}`, 'Content-Type': 'application/sdp' }, await answer(pc, body)];
    }
    if (req.method === 'POST' && req.url === '/whep') {
      const pc = createPeer(codecs());
      // Random loss on what the stand-in sends to subscribers (werift's option is the share of packets *kept*).
      if (lossPercent > 0) pc.config.debug = { outboundPacketLoss: 100 - lossPercent };
      const video = pc.addTransceiver('video', { direction: 'sendonly' }).sender;
      const audio = pc.addTransceiver('audio', { direction: 'sendonly' }).sender;
      peers.set(id, pc);
      outputs.set(id, { video, audio });
      return [201, { Location: `/resource/${id}`, 'Content-Type': 'application/sdp' }, await answer(pc, body)];
    }
    const m = /^\/resource\/(\d+)$/.exec(req.url ?? '');
    if (req.method === 'DELETE' && m) {
      deletes.push(m[1]);
      outputs.delete(m[1]);
      await peers.get(m[1])?.close();
      peers.delete(m[1]);
      return [200, {}, ''];
    }
    return [404, {}, 'not found'];
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, Buffer.concat(chunks).toString('utf8'))
        .then(([status, headers, body]) => res.writeHead(status, headers).end(body))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    whipUrl: `${base}/whip`,
    whepUrl: `${base}/whep`,
    deletes,
    async close() {
      await Promise.all([...peers.values()].map((pc) => pc.close()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

