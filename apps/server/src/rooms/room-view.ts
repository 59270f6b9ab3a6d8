import { ladderOf } from '@app/core';
import type { Room } from '@app/media';

/** JSON shape of a room in API responses. `renditions` is the effective ladder (high first), not the raw option. */
export function roomView(room: Room, detailed = false): Record<string, unknown> {
  const { publishers, subscribers } = room.counts;
  return {
    name: room.name,
    ...room.options,
    renditions: ladderOf(room.options),
    createdAt: room.createdAt.toISOString(),
    numPublishers: publishers,
    numSubscribers: subscribers,
    ...(detailed ? { participants: room.participants(), mixer: room.mixerState() } : {}),
  };
}
