import type { RoomEventBody, RenditionSpec, RoomOptions, TileView } from '@app/core';
import { childLogger, type Logger } from '../logger';
import { MIX_ALL } from '../mixer/audio-mixer';
import { type MixerTile, RoomMixer } from '../mixer/room-mixer';
import type { MixTap } from './mix-tap';
import type { Subscriber } from './subscriber';

export const tileView = (t: MixerTile): TileView => ({ identity: t.identity, kind: t.kind, ...t.rect, fit: t.fit, ...(t.main ? { main: true } : {}) });

/** Where a room's mix goes: its subscribers (each its rendition and mix-minus variant), its taps (high, the full mix), its events. */
export interface MixerSinks {
  subscribers: () => Iterable<Subscriber>;
  taps: () => Iterable<MixTap>;
  emit: (e: RoomEventBody) => void;
}

/** A room's mixer (not started), its log lines prefixed with the room, its output wired to the room's sinks. */
export function createRoomMixer(room: string, options: RoomOptions, ladder: readonly RenditionSpec[], ffmpegPath: string, logger: Logger | undefined, sinks: MixerSinks): RoomMixer {
  const prefixed = childLogger(logger, { room }, `[room ${room}] `);
  const mixer = new RoomMixer(options, ladder, ffmpegPath, prefixed);
  const high = ladder[0].name;
  mixer.on('videoRtp', (r, p, k) => {
    for (const s of sinks.subscribers()) s.sendVideo(r, p, k);
    if (r === high) for (const t of sinks.taps()) t.pushVideo(p);
  });
  mixer.on('layout', (tiles) => {
    const st = mixer.layoutState;
    sinks.emit({ type: 'layoutChanged', layout: st.layout, pinnedIdentity: st.pinnedIdentity ?? null, width: options.width, height: options.height, tiles: tiles.map(tileView) });
  });
  mixer.on('activeSpeaker', (identity) => sinks.emit({ type: 'activeSpeakerChanged', identity: identity ?? null }));
  mixer.on('audio', (payloads) => {
    for (const s of sinks.subscribers()) {
      const p = payloads.get(s.variant) ?? payloads.get(MIX_ALL);
      if (p) s.sendAudio(p);
    }
    const all = payloads.get(MIX_ALL);
    if (all) for (const t of sinks.taps()) t.pushAudio(all);
  });
  return mixer;
}
