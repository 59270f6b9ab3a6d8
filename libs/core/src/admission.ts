import { COST_MODEL, type CapacityLimits, type CostModel, type NodeLoad, nodeUsage, roomBaseCores, type RoomLoad, workerOverloaded, workersOverloaded } from './capacity';

/**
 * Admission control: whether one more room, session or events client fits on this node without degrading the rooms
 * already running. Pure: the node's load and limits come in, a decision goes out; the shell turns a refusal into a
 * 503 with Retry-After (CapacityError) before anything starts.
 */

/** Which limit refused a request (also in the 503's JSON body as `error.limit`). */
export type AdmissionLimit =
  | 'max_rooms'
  | 'max_publishers_per_room'
  | 'max_publishers'
  | 'max_subscribers_per_room'
  | 'max_subscribers'
  | 'max_event_clients_per_room'
  | 'rtc_ports'
  | 'capacity_cores'
  | 'worker_load';

export type AdmissionRequest =
  /** A new room (POST /v1/rooms, or a token for a room that does not exist yet). Costs no cores until someone joins. */
  | { kind: 'room'; room: string }
  /** A WHIP session; `replaces`: the identity re-publishes the same source (its old session closes: nothing is added). */
  | { kind: 'publisher'; room: string; replaces?: boolean }
  /** A visible WHEP session; `replaces`: the identity already subscribes (its old session closes). */
  | { kind: 'subscriber'; room: string; replaces?: boolean }
  /** A hidden subscriber or tap: a recorder, a livestream, HLS. */
  | { kind: 'output'; room: string }
  /** A WebSocket client of the room's events. */
  | { kind: 'events'; room: string };

export type AdmissionDecision = { ok: true } | { ok: false; limit: AdmissionLimit; message: string; retryAfterSeconds: number };

/**
 * Retry-After per limit: rooms and sessions free up as meetings end (and idle rooms are closed after
 * ROOM_IDLE_SECONDS); a measured overload is usually a burst.
 */
export const RETRY_AFTER_SECONDS: Record<AdmissionLimit, number> = {
  max_rooms: 60,
  max_publishers_per_room: 30,
  max_publishers: 30,
  max_subscribers_per_room: 30,
  max_subscribers: 30,
  max_event_clients_per_room: 30,
  rtc_ports: 30,
  capacity_cores: 30,
  worker_load: 10,
};

const OK: AdmissionDecision = { ok: true };
const refuse = (limit: AdmissionLimit, message: string): AdmissionDecision => ({ ok: false, limit, message, retryAfterSeconds: RETRY_AFTER_SECONDS[limit] });
const fmt = (n: number): string => String(Math.round(n * 1000) / 1000);

/** Cores a session adds to a room: its own cost, plus the room's base when its mixer is not running yet. */
function addedCores(room: RoomLoad, kind: 'publisher' | 'subscriber' | 'output', model: CostModel): number {
  const own = kind === 'publisher' ? model.publisherCores : kind === 'subscriber' ? model.subscriberCores : model.outputCores;
  return own + (room.active ? 0 : roomBaseCores(room.ladder, model));
}

/**
 * Decides one request. Requests that add nothing (a room that exists, a session replacing its own, a room this node
 * does not have: that is a 404 elsewhere) are admitted. Checks, in order: the count limits of the request's kind, UDP
 * ports (one per WebRTC session, when RTC_MIN_PORT/RTC_MAX_PORT bound them), the core budget against the cost model,
 * then the measured worker load: the room's own worker above its ELU or lag threshold when the room is tied to a
 * measured worker (the session would run there), otherwise every worker above it.
 */
export function admit(request: AdmissionRequest, load: NodeLoad, limits: CapacityLimits, model: CostModel = COST_MODEL): AdmissionDecision {
  const room = load.rooms.find((r) => r.name === request.room);
  if (request.kind === 'room') {
    if (room) return OK;
    if (load.rooms.length >= limits.maxRooms) return refuse('max_rooms', `this node has reached its limit of ${limits.maxRooms} rooms (MAX_ROOMS); try again later or on another node`);
    return OK;
  }
  if (!room) return OK;
  if (request.kind === 'events') {
    if (room.eventClients >= limits.maxEventClientsPerRoom) {
      return refuse('max_event_clients_per_room', `room "${room.name}" has reached its limit of ${limits.maxEventClientsPerRoom} events clients (MAX_EVENT_CLIENTS_PER_ROOM)`);
    }
    return OK;
  }
  if (request.kind !== 'output' && request.replaces) return OK;

  const used = nodeUsage(load, model);
  if (request.kind === 'publisher' && room.publishers >= limits.maxPublishersPerRoom) {
    return refuse('max_publishers_per_room', `room "${room.name}" has reached its limit of ${limits.maxPublishersPerRoom} publishers (MAX_PUBLISHERS_PER_ROOM)`);
  }
  if (request.kind === 'publisher' && limits.maxPublishers !== undefined && used.publishers >= limits.maxPublishers) {
    return refuse('max_publishers', `this node has reached its limit of ${limits.maxPublishers} publishers (MAX_PUBLISHERS); try again later or on another node`);
  }
  if (request.kind === 'subscriber') {
    if (room.subscribers >= limits.maxSubscribersPerRoom) {
      return refuse('max_subscribers_per_room', `room "${room.name}" has reached its limit of ${limits.maxSubscribersPerRoom} subscribers (MAX_SUBSCRIBERS_PER_ROOM)`);
    }
    if (used.subscribers >= limits.maxSubscribers) return refuse('max_subscribers', `this node has reached its limit of ${limits.maxSubscribers} subscribers (MAX_SUBSCRIBERS); try again later or on another node`);
  }
  if (limits.rtcPorts !== undefined && used.ports >= limits.rtcPorts) {
    return refuse('rtc_ports', `this node has no UDP port left: ${used.ports} WebRTC sessions on the ${limits.rtcPorts} ports of RTC_MIN_PORT..RTC_MAX_PORT (one per session)`);
  }
  const needed = addedCores(room, request.kind, model);
  if (used.cores + needed > limits.capacityCores) {
    return refuse(
      'capacity_cores',
      `this node's CPU budget is spent: ${fmt(used.cores)} of ${fmt(limits.capacityCores)} cores in use, a ${request.kind} in room "${room.name}" needs ${fmt(needed)} more (NODE_CAPACITY_CORES); try again later or on another node`,
    );
  }
  const own = room.worker === undefined ? undefined : load.measured?.workers.find((w) => w.index === room.worker);
  if (own && workerOverloaded(own, limits)) {
    return refuse(
      'worker_load',
      `the media worker of room "${room.name}" is overloaded (event-loop utilisation ${fmt(own.elu)}, lag ${Math.round(own.lagMs)} ms; limits ${limits.maxWorkerElu} and ${limits.maxWorkerLagMs} ms); try again shortly`,
    );
  }
  if (!own && workersOverloaded(load.measured, limits)) {
    return refuse('worker_load', `every room worker of this node is overloaded (event-loop utilisation above ${limits.maxWorkerElu} or lag above ${limits.maxWorkerLagMs} ms while busy); try again shortly`);
  }
  return OK;
}

/**
 * The load with admitted requests whose sessions are still being set up (an SDP answer is awaited) counted in, so
 * that concurrent requests cannot all pass on the same headroom. A pending session makes its room active.
 */
export function withReservations(load: NodeLoad, reservations: Iterable<AdmissionRequest>): NodeLoad {
  const rooms = new Map(load.rooms.map((r) => [r.name, { ...r }]));
  for (const q of reservations) {
    const r = rooms.get(q.room);
    if (!r || q.kind === 'room' || q.kind === 'events') continue;
    if (q.kind !== 'output' && q.replaces) continue;
    if (q.kind === 'publisher') r.publishers++;
    else if (q.kind === 'subscriber') r.subscribers++;
    else r.outputs++;
    r.active = true;
  }
  return { ...load, rooms: [...rooms.values()] };
}

/** The participants of a room as the API shows them (only what `replacesSession` reads). */
export interface SessionHolder {
  identity: string;
  publisher?: unknown;
  screen?: unknown;
  subscriber?: unknown;
}

/** Whether a new session of `identity` replaces one it already has (same identity publishing the same source, or subscribing visibly). */
export function replacesSession(participants: readonly SessionHolder[], identity: string, kind: 'publisher' | 'subscriber', source: 'camera' | 'screen' = 'camera'): boolean {
  const p = participants.find((x) => x.identity === identity);
  if (!p) return false;
  if (kind === 'subscriber') return p.subscriber !== undefined;
  return (source === 'screen' ? p.screen : p.publisher) !== undefined;
}
