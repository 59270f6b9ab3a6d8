/**
 * Several MCU nodes on one Redis: what a node says about itself, which node a room goes to, and where a request for a
 * room hosted elsewhere is sent. Pure: the Redis registry and the timers are in apps/server/src/cluster/.
 */

/** A node heartbeats this often… */
export const NODE_HEARTBEAT_MS = 1000;
/** …and is dead (its record and its rooms' leases expire) when it has not for this long. */
export const NODE_TTL_MS = 4000;

/** What each node publishes in the registry on every heartbeat. */
export interface NodeRecord {
  id: string;
  /** Where clients reach it (PUBLIC_URL): redirects and node-to-node forwarding use it. */
  url: string;
  /** Cost-model cores left (NODE_CAPACITY_CORES minus what its rooms cost). */
  coresLeft: number;
  /** Rooms it may still host (MAX_ROOMS minus its rooms). */
  roomsLeft: number;
  /** Rooms it hosts now (leases taken for it count at once, before its next heartbeat). */
  rooms: number;
  /** Mean event-loop utilisation of its room workers (0–1). */
  load: number;
  /** SIGTERM: no new rooms; its own finish. */
  draining: boolean;
  /** Epoch ms of the heartbeat. */
  at: number;
}

export const NODE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Validates NODE_ID (it becomes part of Redis keys and log fields). */
export function validateNodeId(id: string): string | undefined {
  return NODE_ID_RE.test(id) ? undefined : 'NODE_ID must be 1–63 letters, digits, ".", "_" or "-" (starting with a letter or digit)';
}

/**
 * A node that may take a new room. Liveness is not judged here: a record is only read while Redis keeps it (its TTL,
 * renewed by the node's heartbeat), and comparing its `at` with this host's clock would misjudge nodes whose clocks
 * differ by more than the TTL.
 */
export function canHost(n: NodeRecord): boolean {
  return !n.draining && n.roomsLeft > 0 && n.coresLeft > 0;
}

/** Capacities this close are a tie (the cost model's estimate is not finer than that). */
const CORES_TIE = 0.1;

/**
 * The node for a new room: the one with the most capacity left (cost-model cores); ties — within 0.1 core — go to the
 * one hosting fewer rooms, then the least loaded, then the lowest id (so every node makes the same choice). Undefined
 * when no node can host one.
 */
export function pickNode(nodes: readonly NodeRecord[]): NodeRecord | undefined {
  const candidates = nodes.filter(canHost);
  if (!candidates.length) return undefined;
  const best = Math.max(...candidates.map((n) => n.coresLeft));
  const top = candidates.filter((n) => best - n.coresLeft <= CORES_TIE);
  return top.sort((a, b) => a.rooms - b.rooms || a.load - b.load || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0];
}

/** Where a request for `originalUrl` (path and query, as received) goes on the node at `nodeUrl`. */
export function redirectLocation(nodeUrl: string, originalUrl: string): string {
  const base = nodeUrl.replace(/\/+$/, '');
  const rest = originalUrl.startsWith('/') ? originalUrl : `/${originalUrl}`;
  return `${base}${rest}`;
}

/** A node's record as stored in a Redis hash (all strings), back to a NodeRecord; undefined when incomplete. */
export function parseNodeRecord(h: Record<string, string>): NodeRecord | undefined {
  if (!h.id || !h.url) return undefined;
  const num = (v: string | undefined) => (v === undefined || v === '' ? NaN : Number(v));
  const r: NodeRecord = {
    id: h.id,
    url: h.url,
    coresLeft: num(h.coresLeft),
    roomsLeft: num(h.roomsLeft),
    rooms: num(h.rooms),
    load: num(h.load),
    draining: h.draining === '1',
    at: num(h.at),
  };
  return [r.coresLeft, r.roomsLeft, r.rooms, r.load, r.at].every(Number.isFinite) ? r : undefined;
}

export function nodeRecordFields(r: NodeRecord): Record<string, string> {
  return {
    id: r.id,
    url: r.url,
    coresLeft: String(r.coresLeft),
    roomsLeft: String(r.roomsLeft),
    rooms: String(r.rooms),
    load: String(r.load),
    draining: r.draining ? '1' : '0',
    at: String(r.at),
  };
}
