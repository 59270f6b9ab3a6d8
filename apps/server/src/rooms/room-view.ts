import { ladderOf } from '@app/core';
import type { StoredRoom } from '@app/jobs';
import type { RoomHandle as Room } from '@app/media';

/**
 * JSON shape of a room in API responses. `renditions` is the effective ladder (high first), not the raw option. `node`
 * is the node its media runs on (null: nowhere yet; it is placed when someone joins).
 */
export function roomView(room: Room, detailed = false, node: string | null = null): Record<string, unknown> {
  const { publishers, subscribers } = room.counts;
  return {
    name: room.name,
    ...room.options,
    renditions: ladderOf(room.options),
    createdAt: room.createdAt.toISOString(),
    numPublishers: publishers,
    numSubscribers: subscribers,
    node,
    ...(detailed ? { participants: room.participants(), mixer: room.mixerState() } : {}),
  };
}

/** A stored room that runs on no node now: its options, nobody in it. */
export function storedRoomView(rec: StoredRoom, detailed = false): Record<string, unknown> {
  return {
    name: rec.name,
    ...rec.options,
    renditions: ladderOf(rec.options),
    createdAt: rec.createdAt,
    numPublishers: 0,
    numSubscribers: 0,
    node: null,
    ...(detailed ? { participants: [], mixer: null } : {}),
  };
}
