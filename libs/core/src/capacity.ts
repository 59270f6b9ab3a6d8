import type { RenditionSpec } from './renditions';

/**
 * What this node can carry, in cores and in counts, and what it carries now. Pure: the shell (the server's
 * AdmissionService) reads the rooms and hands their load in; nothing here measures anything.
 */

/**
 * The cost model, in cores of one x86 server core, from the bench (README, "Benchmarks", 2 cores AMD EPYC) and the
 * numbers below; one place to re-tune when the bench moves.
 *
 * - a 720p30 x264 encoder costs 0.12–0.18 core (the bench's high encoder alone: 0.10; with the compositor feeding it
 *   more): `referenceEncoderCores` 0.15;
 * - a 360p encoder costs about a third of a 720p one (a quarter of the pixels; fixed per-frame costs stay):
 *   `encoderCores` scales the reference by (pixel rate ratio)^0.8, which gives 0.33× for 360p at the same frame rate
 *   (0.05 core) and 0.08× for 180p at 20 fps (0.012 core);
 * - decoding a 360p publisher costs about 0.03 core, plus ~0.01 for its ingest (SRTP, depacketising, jitter buffer in
 *   Node): `publisherCores` 0.04;
 * - a subscriber at 1.5 Mbps costs about 0.0073 core (SRTP + fan-out + its delivery controller): `subscriberCores`;
 * - an output (a hidden recorder/livestream subscriber and what remuxes its stream; the bench: recording +0.03, HLS
 *   ffmpeg 0.03, RTMP pusher 0.04): `outputCores` 0.03;
 * - the compositor and audio mixer of a running room: `mixerCores` 0.07, chosen so that the default room (720p30 with
 *   medium 360p and low 180p@20) with 4 publishers and 1 viewer costs ≈ 0.45 core, as measured:
 *   0.07 + (0.15 + 0.05 + 0.012) + 4 × 0.04 + 0.0073 ≈ 0.449.
 */
export const COST_MODEL = {
  mixerCores: 0.07,
  referenceEncoderCores: 0.15,
  /** The reference encoder's pixel rate: 1280x720 at 30 fps. */
  referencePixelRate: 1280 * 720 * 30,
  encoderScaleExponent: 0.8,
  publisherCores: 0.04,
  subscriberCores: 0.0073,
  outputCores: 0.03,
} as const;

export type CostModel = typeof COST_MODEL;

/** One encoder of the ladder: the reference cost scaled by its pixel rate (sub-linearly, see COST_MODEL). */
export function encoderCores(r: Pick<RenditionSpec, 'width' | 'height' | 'fps'>, model: CostModel = COST_MODEL): number {
  const ratio = (r.width * r.height * r.fps) / model.referencePixelRate;
  return model.referenceEncoderCores * Math.pow(Math.max(ratio, 0), model.encoderScaleExponent);
}

/** What a room costs as soon as anyone is in it: its mixer and one encoder per rung of its ladder (high included). */
export function roomBaseCores(ladder: readonly Pick<RenditionSpec, 'width' | 'height' | 'fps'>[], model: CostModel = COST_MODEL): number {
  return model.mixerCores + ladder.reduce((sum, r) => sum + encoderCores(r, model), 0);
}

/** A room as admission sees it. */
export interface RoomLoad {
  name: string;
  /** Its renditions, high first (each one is an encoder while the room runs). */
  ladder: readonly Pick<RenditionSpec, 'width' | 'height' | 'fps'>[];
  /** Its mixer runs (someone is in it, or an output taps it): the base cost is being paid. */
  active: boolean;
  publishers: number;
  /** Visible subscribers. */
  subscribers: number;
  /** Hidden subscribers and taps: recorders, livestreams, HLS. */
  outputs: number;
  eventClients: number;
  /** The room worker thread its media runs in (its index in MeasuredLoad), when known. */
  worker?: number;
}

/** Room worker threads' event-loop utilisation (0–1) and lag: measured load, when the shell has it. */
export interface MeasuredLoad {
  workers: Array<WorkerLoadSample>;
}

export interface WorkerLoadSample {
  /** Which worker (RoomLoad.worker); absent when rooms are not tied to workers. */
  index?: number;
  elu: number;
  lagMs: number;
}

export interface NodeLoad {
  rooms: readonly RoomLoad[];
  measured?: MeasuredLoad;
}

/** The node's limits (from config; see README "Admission control"). */
export interface CapacityLimits {
  maxRooms: number;
  maxPublishersPerRoom: number;
  /** WHIP sessions over all rooms of this node (MAX_PUBLISHERS); undefined: no limit but the others. */
  maxPublishers?: number;
  maxSubscribersPerRoom: number;
  /** Visible subscribers over all rooms. */
  maxSubscribers: number;
  maxEventClientsPerRoom: number;
  /** UDP ports of RTC_MIN_PORT..RTC_MAX_PORT; undefined when the range is not set (any free port). */
  rtcPorts?: number;
  /** The budget the cost model is checked against. */
  capacityCores: number;
  /** A worker is overloaded above this event-loop utilisation… */
  maxWorkerElu: number;
  /** …or this event-loop lag. */
  maxWorkerLagMs: number;
}

/** Measured-load thresholds unless configured otherwise. */
export const DEFAULT_MAX_WORKER_ELU = 0.85;
export const DEFAULT_MAX_WORKER_LAG_MS = 200;
/**
 * Lag counts only in a worker that is nearly full anyway: a loop below this ELU that lagged was blocked by joins' bursts
 * (DTLS handshakes, decoder spawns: the very sessions being admitted) or starved by the OS on a crowded machine —
 * neither is a worker with no room left. Counting it turned joins away: on a loaded CI machine (ELU 0.29, p99 lag
 * 271 ms), and nine publishers joining one room one after another (ELU 0.71, lag 256 ms) in the bench.
 */
export const LAG_COUNTS_ABOVE_ELU = 0.8;

/** What a room costs now: nothing while its mixer is stopped, else its base plus its sessions and outputs. */
export function roomCores(room: RoomLoad, model: CostModel = COST_MODEL): number {
  if (!room.active) return 0;
  return roomBaseCores(room.ladder, model) + room.publishers * model.publisherCores + room.subscribers * model.subscriberCores + room.outputs * model.outputCores;
}

/** WebRTC sessions, which is also the estimate of UDP ports in use (one port per session: werift binds one socket per peer with BUNDLE). */
export function sessionsOf(room: RoomLoad): number {
  return room.publishers + room.subscribers + room.outputs;
}

export interface NodeUsage {
  rooms: number;
  publishers: number;
  subscribers: number;
  outputs: number;
  /** Estimated: one UDP port per WebRTC session. */
  ports: number;
  cores: number;
}

export function nodeUsage(load: NodeLoad, model: CostModel = COST_MODEL): NodeUsage {
  const u: NodeUsage = { rooms: load.rooms.length, publishers: 0, subscribers: 0, outputs: 0, ports: 0, cores: 0 };
  for (const r of load.rooms) {
    u.publishers += r.publishers;
    u.subscribers += r.subscribers;
    u.outputs += r.outputs;
    u.ports += sessionsOf(r);
    u.cores += roomCores(r, model);
  }
  return u;
}

type WorkerThresholds = Pick<CapacityLimits, 'maxWorkerElu' | 'maxWorkerLagMs'>;

/** One worker is above the ELU threshold, or above the lag threshold while busy (see LAG_COUNTS_ABOVE_ELU). */
export function workerOverloaded(w: WorkerLoadSample, limits: WorkerThresholds): boolean {
  return w.elu > limits.maxWorkerElu || (w.lagMs > limits.maxWorkerLagMs && w.elu >= LAG_COUNTS_ABOVE_ELU);
}

/** Every worker is above the ELU or lag threshold (no workers measured: not overloaded). */
export function workersOverloaded(measured: MeasuredLoad | undefined, limits: WorkerThresholds): boolean {
  const w = measured?.workers ?? [];
  return w.length > 0 && w.every((x) => workerOverloaded(x, limits));
}

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** For /readyz and /metrics: the limits, what is used, what is left (never negative), and the core budget. */
export interface CapacitySummary {
  limits: { rooms: number; publishersPerRoom: number; publishers?: number; subscribersPerRoom: number; subscribers: number; eventClientsPerRoom: number; ports?: number; cores: number };
  used: NodeUsage;
  left: { rooms: number; subscribers: number; ports?: number; cores: number };
  cores: { budget: number; used: number; left: number };
  /** Measured worker load, when known. */
  workersOverloaded?: boolean;
}

export function capacitySummary(load: NodeLoad, limits: CapacityLimits, model: CostModel = COST_MODEL): CapacitySummary {
  const used = nodeUsage(load, model);
  const coresLeft = round(Math.max(0, limits.capacityCores - used.cores));
  return {
    limits: {
      rooms: limits.maxRooms,
      publishersPerRoom: limits.maxPublishersPerRoom,
      ...(limits.maxPublishers !== undefined ? { publishers: limits.maxPublishers } : {}),
      subscribersPerRoom: limits.maxSubscribersPerRoom,
      subscribers: limits.maxSubscribers,
      eventClientsPerRoom: limits.maxEventClientsPerRoom,
      ...(limits.rtcPorts !== undefined ? { ports: limits.rtcPorts } : {}),
      cores: limits.capacityCores,
    },
    used: { ...used, cores: round(used.cores) },
    left: {
      rooms: Math.max(0, limits.maxRooms - used.rooms),
      subscribers: Math.max(0, limits.maxSubscribers - used.subscribers),
      ...(limits.rtcPorts !== undefined ? { ports: Math.max(0, limits.rtcPorts - used.ports) } : {}),
      cores: coresLeft,
    },
    cores: { budget: limits.capacityCores, used: round(used.cores), left: coresLeft },
    ...(load.measured ? { workersOverloaded: workersOverloaded(load.measured, limits) } : {}),
  };
}
