/**
 * A synthetic WHIP publisher: a werift peer sending a solid-colour video (frames generated in Node, encoded by an
 * ffmpeg child) and a sine tone (ffmpeg lavfi, Opus), so tests can assert on what the MCU outputs.
 *
 *   Node yuv420p frames --stdin--> ffmpeg (VP8|H.264) --RTP/UDP 127.0.0.1--> dgram --> track.writeRtp --> werift
 *   ffmpeg lavfi sine --> Opus --RTP/UDP 127.0.0.1--> dgram --> track.writeRtp --> werift
 *
 * Media only starts once the peer is connected (RTP written before DTLS is dropped, keyframe included).
 */
import type { VideoCodec } from '@app/core';
import * as dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { MediaStreamTrack, type RTCPeerConnection } from 'werift';
import { spawnFfmpeg, type TrackedChild } from './ffmpeg-children';
import { rgbToYuv, yuvFrame, type Rgb } from './media-probe';
import {
  createPeer,
  deleteResource,
  dropPeerSilently,
  h264Codec,
  settleBeforeClose,
  opusCodec,
  signal,
  vp8Codec,
  whenConnected,
  type PeerNetworkOptions,
} from './webrtc-peer';
import { withDtlsRetry } from './session-retry';

export interface PublisherOptions extends PeerNetworkOptions {
  whipUrl: string;
  token: string;
  /** Solid frame colour, 0-255 (default grey [128,128,128]). */
  color?: Rgb;
  /** Tone frequency in Hz (default 440). */
  toneHz?: number;
  /** Peak amplitude of the tone, 0..1 (default 0.3). */
  toneAmplitude?: number;
  video?: boolean;
  audio?: boolean;
  videoCodec?: VideoCodec;
  width?: number;
  height?: number;
  fps?: number;
  /** Keyframe interval in frames (default 15). */
  gop?: number;
  /** Paint a small bar moving along the bottom edge (luma only) so the encoder has real work. */
  movingBar?: boolean;
}

export interface PublisherStats {
  framesWritten: number;
  videoRtpPackets: number;
  audioRtpPackets: number;
  /** RTCP feedback from the server (ffmpeg cannot force a keyframe: PLIs are only counted; NACKs are answered). */
  plisReceived: number;
  nacksReceived: number;
  /** Unexpected ffmpeg exits / errors, with their stderr tail. */
  errors: string[];
}

export interface Publisher {
  readonly resourceUrl: string;
  readonly pc: RTCPeerConnection;
  /**
   * Switch the colour. Once media runs, a frame of the new colour is written immediately and its
   * performance.now() is returned; before that, the colour is just stored and the call time returned.
   */
  setColor(rgb: Rgb): number;
  connected(): Promise<void>;
  /** DELETE the WHIP resource, then close. Resolves to the DELETE status. */
  leave(): Promise<number>;
  /** Stop media and drop the peer without DELETE or any goodbye on the wire (a lost network). */
  vanish(): Promise<void>;
  /** Kill the ffmpeg children and close the peer (no DELETE). Idempotent. */
  close(): Promise<void>;
  stats(): PublisherStats;
}

interface RtpPipe {
  socket: dgram.Socket;
  port: number;
}

function bindRtpSocket(onPacket: (buf: Buffer) => void): Promise<RtpPipe> {
  return new Promise<RtpPipe>((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.on('message', onPacket);
    socket.bind(0, '127.0.0.1', () => {
      socket.removeListener('error', reject);
      socket.on('error', () => undefined);
      resolve({ socket, port: socket.address().port });
    });
  });
}

function closeSocket(s: dgram.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** Starts a session; one whose DTLS handshake stalls is started afresh once (see session-retry.ts). */
export function startPublisher(opts: PublisherOptions): Promise<Publisher> {
  return withDtlsRetry(() => startPublisherOnce(opts), `publisher ${opts.whipUrl}`);
}

async function startPublisherOnce(opts: PublisherOptions): Promise<Publisher> {
  const wantVideo = opts.video ?? true;
  const wantAudio = opts.audio ?? true;
  if (!wantVideo && !wantAudio) throw new Error('startPublisher: need video and/or audio');
  const codec = opts.videoCodec ?? 'vp8';
  const width = opts.width ?? 640;
  const height = opts.height ?? 360;
  const fps = opts.fps ?? 30;
  const gop = opts.gop ?? 15;
  const toneHz = opts.toneHz ?? 440;
  const toneAmplitude = opts.toneAmplitude ?? 0.3;
  const frameMs = 1000 / fps;

  const stats: PublisherStats = {
    framesWritten: 0,
    videoRtpPackets: 0,
    audioRtpPackets: 0,
    plisReceived: 0,
    nacksReceived: 0,
    errors: [],
  };
  const videoTrack = new MediaStreamTrack({ kind: 'video' });
  const audioTrack = new MediaStreamTrack({ kind: 'audio' });
  const pc = createPeer(
    { video: [codec === 'h264' ? h264Codec() : vp8Codec()], audio: [opusCodec()] },
    opts,
  );
  if (wantVideo) {
    const { sender } = pc.addTransceiver(videoTrack, { direction: 'sendonly' });
    sender.onPictureLossIndication.subscribe(() => stats.plisReceived++);
    sender.onGenericNack.subscribe(() => stats.nacksReceived++);
  }
  if (wantAudio) pc.addTransceiver(audioTrack, { direction: 'sendonly' });

  let resourceUrl: string;
  try {
    resourceUrl = await signal(pc, opts.whipUrl, opts.token);
  } catch (err) {
    await pc.close().catch(() => undefined);
    throw err;
  }

  let closed = false;
  let mediaStopped = false;
  const children: TrackedChild[] = [];
  const sockets: dgram.Socket[] = [];
  let frameTimer: NodeJS.Timeout | undefined;
  let nextDue = 0;
  let mediaRunning = false;
  let color: Rgb = opts.color ?? [128, 128, 128];
  let base = yuvFrame(width, height, color);
  let encoder: TrackedChild | undefined;

  const watchChild = (name: string, child: TrackedChild): void => {
    children.push(child);
    void child.exited.then(({ code, signal: sig }) => {
      if (!mediaStopped) stats.errors.push(`${name} ffmpeg exited (code ${code}, signal ${sig}): ${child.stderrTail()}`);
    });
  };

  const barW = Math.max(8, Math.round(width / 16 / 2) * 2);
  const barTop = height - Math.max(2, Math.round(height / 8 / 2) * 2);
  const renderFrame = (): Buffer => {
    if (!opts.movingBar) return base;
    const f = Buffer.from(base);
    const luma = rgbToYuv(color)[0] < 128 ? 235 : 16;
    const x = (stats.framesWritten * 4) % (width - barW);
    for (let y = barTop; y < height; y++) f.fill(luma, y * width + x, y * width + x + barW);
    return f;
  };

  const writeFrame = (): number => {
    const at = performance.now();
    const stdin = encoder?.child.stdin;
    // Skip (rather than queue) when ffmpeg is more than a few frames behind: real time matters more than smoothness.
    if (stdin && !stdin.destroyed && stdin.writableLength < base.length * 4) {
      stdin.write(renderFrame());
      stats.framesWritten++;
    }
    return at;
  };

  const schedule = (): void => {
    if (mediaStopped) return;
    const delay = Math.max(0, nextDue - performance.now());
    frameTimer = setTimeout(() => {
      if (mediaStopped) return;
      const now = performance.now();
      writeFrame();
      nextDue += frameMs;
      if (nextDue < now - 5 * frameMs) nextDue = now + frameMs; // after a long stall, do not burst to catch up
      schedule();
    }, delay);
  };

  const startVideo = async (): Promise<void> => {
    const pipe = await bindRtpSocket((buf) => {
      if (closed || mediaStopped) return;
      stats.videoRtpPackets++;
      videoTrack.writeRtp(buf);
    });
    if (mediaStopped) return closeSocket(pipe.socket); // closed while binding
    sockets.push(pipe.socket);
    const enc =
      codec === 'h264'
        ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-bsf:v', 'dump_extra=freq=keyframe']
        : ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-threads', '1', '-lag-in-frames', '0'];
    encoder = spawnFfmpeg(
      [
        '-loglevel', 'error',
        '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
        '-an', ...enc, '-g', String(gop), ...(codec === 'h264' ? ['-bf', '0', '-pix_fmt', 'yuv420p'] : []),
        '-b:v', '600k',
        '-f', 'rtp', '-payload_type', codec === 'h264' ? '102' : '96',
        `rtp://127.0.0.1:${pipe.port}?pkt_size=1200`,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    watchChild('video', encoder);
    nextDue = performance.now();
    schedule();
  };

  const startAudio = async (): Promise<void> => {
    const pipe = await bindRtpSocket((buf) => {
      if (closed || mediaStopped) return;
      stats.audioRtpPackets++;
      audioTrack.writeRtp(buf);
    });
    if (mediaStopped) return closeSocket(pipe.socket); // closed while binding
    sockets.push(pipe.socket);
    // lavfi's sine source has a peak of 1/8: scale it to the requested amplitude.
    const volume = (toneAmplitude * 8).toFixed(4);
    const child = spawnFfmpeg(
      [
        '-loglevel', 'error', '-nostdin',
        '-re', '-f', 'lavfi', '-i', `sine=frequency=${toneHz}:sample_rate=48000`,
        '-af', `volume=${volume}`, '-ac', '1',
        '-c:a', 'libopus', '-b:a', '64k', '-application', 'lowdelay', '-frame_duration', '20',
        '-f', 'rtp', '-payload_type', '111', `rtp://127.0.0.1:${pipe.port}?pkt_size=1200`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    watchChild('audio', child);
  };

  const stopMedia = async (): Promise<void> => {
    mediaStopped = true;
    if (frameTimer) clearTimeout(frameTimer);
    await Promise.all(children.map((c) => c.kill()));
    await Promise.all(sockets.map(closeSocket));
  };

  const connectedP = whenConnected(pc, opts.connectTimeoutMs ?? 15000);
  connectedP
    .then(async () => {
      if (mediaStopped) return;
      mediaRunning = true;
      await Promise.all([wantVideo ? startVideo() : undefined, wantAudio ? startAudio() : undefined]);
    })
    .catch((err: unknown) => {
      stats.errors.push(`media start failed: ${err instanceof Error ? err.message : String(err)}`);
    });

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    mediaStopped = true;
    await settleBeforeClose(pc);
    await stopMedia();
    videoTrack.stop();
    audioTrack.stop();
    await pc.close().catch(() => undefined);
  };

  return {
    resourceUrl,
    pc,
    setColor(rgb: Rgb): number {
      color = [rgb[0], rgb[1], rgb[2]];
      base = yuvFrame(width, height, color);
      if (!mediaRunning || !encoder || mediaStopped) return performance.now();
      if (frameTimer) clearTimeout(frameTimer);
      const at = writeFrame();
      nextDue = at + frameMs;
      schedule();
      return at;
    },
    connected: () => connectedP,
    async leave(): Promise<number> {
      try {
        return await deleteResource(resourceUrl, opts.token);
      } finally {
        await close();
      }
    },
    async vanish(): Promise<void> {
      if (closed) return;
      closed = true;
      mediaStopped = true;
      await settleBeforeClose(pc);
      await stopMedia();
      videoTrack.stop();
      audioTrack.stop();
      await dropPeerSilently(pc);
    },
    close,
    stats: () => ({ ...stats, errors: [...stats.errors] }),
  };
}
