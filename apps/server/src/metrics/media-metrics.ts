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
  const byRendition = metrics.gauge('mcu_subscribers_by_rendition', 'WHEP subscribers per rendition they receive or are switching to (paused: audio only)', ['room', 'rendition']);
  const encoderRunning = metrics.gauge('mcu_rendition_encoder_running', '1 while the rendition encoder runs (high always; lower rungs while used)', ['room', 'rendition']);
  const keyframesRequested = metrics.absoluteCounter('mcu_keyframes_requested_total', 'keyframe requests per rendition (PLI/FIR, switches, joins), before coalescing', ['room', 'rendition']);
  const keyframesSent = metrics.absoluteCounter('mcu_keyframes_sent_total', 'keyframes made per rendition (requested, periodic, encoder start)', ['room', 'rendition']);
  const switches = metrics.absoluteCounter('mcu_subscriber_switches_total', 'rendition switches of subscribers', ['room', 'direction']);
  const nacks = metrics.absoluteCounter('mcu_nacks_received_total', 'packets NACKed by subscribers', ['room']);
  const rtx = metrics.absoluteCounter('mcu_retransmissions_total', 'packets retransmitted to subscribers', ['room']);
  const rtxSkipped = metrics.absoluteCounter('mcu_retransmissions_skipped_total', 'NACKed packets not retransmitted (gone from the history, or over the estimate budget)', ['room']);
  const estimates = metrics.gauge('mcu_subscriber_estimate_kbps_bucket', 'subscribers whose downlink estimate is at most le kbps (a distribution at scrape time)', ['room', 'le']);
  const ESTIMATE_BUCKETS = [100, 200, 300, 500, 800, 1200, 2000, 4000, Infinity];
  const ffmpeg = metrics.gauge('mcu_ffmpeg_processes', 'ffmpeg child processes of this server (decoders, encoders, recorders)');
  const rates = new RateTracker();

  metrics.onScrape('media', () => {
    const list = rooms.list();
    for (const g of [participants, publishers, subscribers, fps, targetFps, byRendition, encoderRunning, estimates]) g.reset();
    for (const c of [composed, dropped, encoderRestarts, decoderRestarts, packetsIn, bytesIn, packetsOut, bytesOut, encoderPackets, pliSent, pliReceived, keyframesRequested, keyframesSent, switches, nacks, rtx, rtxSkipped]) c.reset();
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
      const delivery = room.deliveryStats();
      for (const [rendition, n] of Object.entries(delivery.byRendition)) byRendition.set({ ...labels, rendition }, n);
      for (const le of ESTIMATE_BUCKETS) estimates.set({ ...labels, le: le === Infinity ? '+Inf' : String(le) }, delivery.estimatesKbps.filter((e) => e <= le).length);
      switches.set({ ...labels, direction: 'up' }, delivery.totals.switchesUp);
      switches.set({ ...labels, direction: 'down' }, delivery.totals.switchesDown);
      nacks.set(labels, delivery.totals.nacksReceived);
      rtx.set(labels, delivery.totals.retransmissions);
      rtxSkipped.set(labels, delivery.totals.retransmissionsSkipped);
      const mixer = room.mixerState();
      for (const r of mixer.renditions ?? []) {
        const rl = { ...labels, rendition: r.name };
        encoderRunning.set(rl, r.running ? 1 : 0);
        keyframesRequested.set(rl, r.keyframesRequested);
        keyframesSent.set(rl, r.keyframesOut);
      }
      const stats = mixer.stats;
      if (stats) {
        composed.set(labels, stats.framesComposed ?? 0);
        dropped.set(labels, stats.framesDropped ?? 0);
        encoderRestarts.set(labels, stats.encoderRestarts ?? 0);
        decoderRestarts.set(labels, stats.decoderRestarts ?? 0);
        encoderPackets.set(labels, stats.rtpPacketsOut ?? 0);
        // the figures come from the room's thread once a second: a rate over scrape times read two reports' frames in one
        // interval now and then (30 fps for a 15 fps room); over the times the figures were read it is exact
        const rate = rates.observe(room.name, stats.framesComposed ?? 0, room.sampledAt() ?? now);
        if (rate !== undefined) fps.set(labels, Math.round(rate * 10) / 10);
      }
    }
    rates.prune(list.map((r) => r.name));
    ffmpeg.set(countChildProcesses(process.pid, 'ffmpeg'));
  });
}
