import { readdirSync, readFileSync } from 'node:fs';
import { ConflictError, DEFAULT_ROOM_OPTIONS, NotFoundError, type RoomOptions } from '@app/core';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { Room } from './room';

/** ffmpeg processes whose parent is this test process (the mixer's encoder, decoders, label renderer). */
function ffmpegChildren(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(stat) ?? [];
      if (comm === 'ffmpeg' && Number(rest?.split(' ')[1]) === process.pid) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A room closed while its mixer is starting: the started mixer must not outlive it (real mixer, real ffmpeg encoder). */
describe('a room closed while its mixer starts', () => {
  const options: RoomOptions = { ...DEFAULT_ROOM_OPTIONS, width: 320, height: 180, fps: 15, videoBitrateKbps: 300, displayNames: false, renditions: [] };
  let room: Room | undefined;
  afterEach(() => {
    // a leaked mixer (the bug) would keep its clocks and encoder running after the test: stop it here either way
    (room as unknown as { mixer?: { close(): void } } | undefined)?.mixer?.close();
  });

  it('tap() rejects with a typed room-closed error and the mixer it started is stopped', async () => {
    const before = ffmpegChildren();
    room = new Room('race', options, { ffmpegPath: process.env.FFMPEG_PATH || 'ffmpeg', network: {}, publisherTimeoutMs: 10_000, maxPublishers: 4 });
    const tapping = room.tap({ video: true }); // runs up to `await mixer.start()`
    room.close('room_closed');
    const outcome = await tapping.then(
      (tap) => ({ tap }),
      (e: unknown) => ({ error: e }),
    );
    await sleep(1000); // the encoder's ffmpeg, killed, is reaped
    // before the fix: the started mixer was attached to the closed room, its encoder still running
    expect({ mixerRunning: room.mixerState().running, newFfmpegs: ffmpegChildren().filter((p) => !before.includes(p)) }).toEqual({ mixerRunning: false, newFfmpegs: [] });
    expect(outcome).toEqual({ error: expect.any(NotFoundError) });
    expect((outcome as { error: Error }).error.name).toBe('RoomClosedError');
  });
});

/** A WHIP offer from a real werift peer (VP8 + Opus, gathered). */
async function whipOffer(): Promise<{ pc: RTCPeerConnection; sdp: string }> {
  const pc = new RTCPeerConnection({
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    bundlePolicy: 'max-bundle',
    codecs: {
      video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96 })],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })],
    },
  });
  pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
  pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') await pc.iceGatheringStateChange.watch((st) => st === 'complete', 5000);
  return { pc, sdp: pc.localDescription?.sdp ?? '' };
}

/** Issue 14: concurrent publishes of one identity were each checked before an await and applied after it. */
describe('concurrent publishes of one identity', () => {
  const options: RoomOptions = { ...DEFAULT_ROOM_OPTIONS, width: 320, height: 180, fps: 15, videoBitrateKbps: 300, displayNames: false, renditions: [] };

  it('leave one publisher (and one decoder); the others are refused with a conflict, the cap counts those being set up', async () => {
    const room = new Room('race-pub', options, { ffmpegPath: process.env.FFMPEG_PATH || 'ffmpeg', network: {}, publisherTimeoutMs: 60_000, maxPublishers: 3 });
    const offers = await Promise.all(Array.from({ length: 8 }, () => whipOffer()));
    try {
      const grants = (identity: string) => ({ room: 'race-pub', identity, canPublish: true, canSubscribe: true });
      const same = await Promise.allSettled(offers.slice(0, 5).map((o) => room.publish(grants('one'), o.sdp)));
      expect(same.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of same) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
      expect(room.counts.publishers).toBe(1);
      expect(Object.keys(room.mixerPids()?.decoders ?? {})).toHaveLength(1);
      // three other identities at once on a cap of 3 with one in: two fit, the third is refused while they are set up
      const others = await Promise.allSettled(offers.slice(5).map((o, i) => room.publish(grants(`other-${i}`), o.sdp)));
      expect(others.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      expect(room.counts.publishers).toBe(3);
    } finally {
      room.close('room_closed');
      await Promise.all(offers.map((o) => o.pc.close().catch(() => undefined)));
    }
  });
});
