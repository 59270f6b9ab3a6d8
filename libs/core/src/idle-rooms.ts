/**
 * Idle rooms: a room nobody is in (no publisher, no subscriber, no recorder or other output) for the idle timeout is
 * closed. Pure: the shell ticks, reads each room and keeps the returned map for the next tick.
 */
export interface RoomOccupancy {
  name: string;
  /** Nobody in it: no publishers, no subscribers (hidden ones included), no output keeps its mixer running. */
  idle: boolean;
}

export interface IdleDecision {
  /** Rooms idle for at least the timeout, with how long (ms): close them. */
  close: Array<{ name: string; idleMs: number }>;
  /** When each still-open room was first seen idle (rooms not idle, gone or closed are dropped). */
  idleSince: Map<string, number>;
}

export function idleRoomsToClose(rooms: readonly RoomOccupancy[], idleSince: ReadonlyMap<string, number>, now: number, timeoutMs: number): IdleDecision {
  const next = new Map<string, number>();
  const close: IdleDecision['close'] = [];
  for (const r of rooms) {
    if (!r.idle) continue;
    const since = idleSince.get(r.name) ?? now;
    if (now - since >= timeoutMs) close.push({ name: r.name, idleMs: now - since });
    else next.set(r.name, since);
  }
  return { close, idleSince: next };
}

/** How often to look: often enough that a room closes within ~10% of its timeout, at most every 10 s, at least every 250 ms. */
export function idleCheckIntervalMs(timeoutMs: number): number {
  return Math.min(10_000, Math.max(250, Math.round(timeoutMs / 10)));
}
