import type { RoomManager } from '@app/media';
import type { MetricsService } from './metrics.service';
import { countChildProcesses } from './proc-children';
import { RateTracker } from './rate-tracker';

/** Rooms, participants, mixer and RTP counters, read from the rooms on every scrape (nothing on the media hot path). */
export function registerMediaMetrics(metrics: MetricsService, rooms: RoomManager): void {
  const roomsG = metrics.gauge('mcu_rooms', 'rooms open on this node');
  const participants = metrics.gauge('mcu_participants', 'participants (distinct identities) per room', ['room']);
  const publishers = metrics.gauge('mcu_publishers', 'WHIP publishers per room', ['room']);
  const subscribers = metrics.gauge('mcu_subscribers', 'WHEP subscribers per room', ['room']);
  const fps = metrics.gauge('mcu_mixer_fps', 'frames composed per second, measured between scrapes', ['room']);
  const targetFps = metrics.gauge('mcu_mixer_target_fps', 'the frame rate the room is configured for', ['room']);
  const composed = metrics.absoluteCounter('mcu_mixer_frames_composed_total', 'frames composed by the room mixer', ['room']);
  const dropped = metrics.absoluteCounter('mcu_mixer_frames_dropped_total', 'mix frames dropped (encoder busy or clock skipped)', ['room']);
  const encoderRestarts = metrics.absoluteCounter('mcu_mixer_encoder_restarts_total', 'restarts of the room encoder (ffmpeg)', ['room']);
  const decoderRestarts = metrics.absoluteCounter('mcu_mixer_decoder_restarts_total', 'restarts of publisher decoders (ffmpeg)', ['room']);
  const packetsIn = metrics.absoluteCounter('mcu_rtp_packets_in_total', 'RTP packets received from publishers', ['room']);
  const bytesIn = metrics.absoluteCounter('mcu_rtp_bytes_in_total', 'RTP bytes received from publishers', ['room']);
  const packetsOut = metrics.absoluteCounter('mcu_rtp_packets_out_total', 'RTP packets sent to subscribers', ['room', 'kind']);
  const bytesOut = metrics.absoluteCounter('mcu_rtp_bytes_out_total', 'RTP bytes sent to subscribers', ['room']);
  const encoderPackets = metrics.absoluteCounter('mcu_mixer_rtp_packets_total', 'RTP packets produced by the room encoder (before fan-out)', ['room']);
  const pliSent = metrics.absoluteCounter('mcu_pli_sent_total', 'PLIs (keyframe requests) sent to publishers', ['room']);
  const pliReceived = metrics.absoluteCounter('mcu_pli_received_total', 'PLIs received from subscribers', ['room']);
  const ffmpeg = metrics.gauge('mcu_ffmpeg_processes', 'ffmpeg child processes of this server (decoders, encoders, recorders)');
  const rates = new RateTracker();

  metrics.onScrape('media', () => {
    const list = rooms.list();
    for (const g of [participants, publishers, subscribers, fps, targetFps]) g.reset();
    for (const c of [composed, dropped, encoderRestarts, decoderRestarts, packetsIn, bytesIn, packetsOut, bytesOut, encoderPackets, pliSent, pliReceived]) c.reset();
    roomsG.set(list.length);
    const now = Date.now();
    for (const room of list) {
      const labels = { room: room.name };
      const people = room.participants();
      const counts = room.counts;
      participants.set(labels, people.length);
      publishers.set(labels, counts.publishers);
      subscribers.set(labels, counts.subscribers);
      targetFps.set(labels, room.options.fps);
      let pIn = 0, bIn = 0, pli = 0, vOut = 0, aOut = 0, bOut = 0, pliIn = 0;
      for (const p of people) {
        if (p.publisher) {
          pIn += p.publisher.stats.packetsIn;
          bIn += p.publisher.stats.bytesIn;
          pli += p.publisher.stats.pliSent;
        }
        if (p.subscriber) {
          vOut += p.subscriber.stats.videoPacketsOut;
          aOut += p.subscriber.stats.audioPacketsOut;
          bOut += p.subscriber.stats.bytesOut;
          pliIn += p.subscriber.stats.pliReceived;
        }
      }
      packetsIn.set(labels, pIn);
      bytesIn.set(labels, bIn);
      pliSent.set(labels, pli);
      packetsOut.set({ ...labels, kind: 'video' }, vOut);
      packetsOut.set({ ...labels, kind: 'audio' }, aOut);
      bytesOut.set(labels, bOut);
      pliReceived.set(labels, pliIn);
      const stats = room.mixerState().stats;
      if (stats) {
        composed.set(labels, stats.framesComposed ?? 0);
        dropped.set(labels, stats.framesDropped ?? 0);
        encoderRestarts.set(labels, stats.encoderRestarts ?? 0);
        decoderRestarts.set(labels, stats.decoderRestarts ?? 0);
        encoderPackets.set(labels, stats.rtpPacketsOut ?? 0);
        const rate = rates.observe(room.name, stats.framesComposed ?? 0, now);
        if (rate !== undefined) fps.set(labels, Math.round(rate * 10) / 10);
      }
    }
    rates.prune(list.map((r) => r.name));
    ffmpeg.set(countChildProcesses(process.pid, 'ffmpeg'));
  });
}
