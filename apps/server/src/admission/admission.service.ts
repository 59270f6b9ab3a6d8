import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  admit,
  type AdmissionRequest,
  CapacityError,
  type CapacityLimits,
  ConflictError,
  capacitySummary,
  type CapacitySummary,
  DEFAULT_MAX_WORKER_ELU,
  DEFAULT_MAX_WORKER_LAG_MS,
  type MeasuredLoad,
  type NodeLoad,
  type RoomLoad,
  RoomFullError,
  withReservations,
} from '@app/core';
import type { AppConfig } from '@app/config';
import { logLine, type MediaWorkerView, type RoomHandle, RoomManager } from '@app/media';
import { APP_CONFIG } from '../tokens';

export function limitsFromConfig(config: AppConfig): CapacityLimits {
  return {
    maxRooms: config.maxRooms,
    maxPublishersPerRoom: config.maxPublishersPerRoom,
    maxPublishers: config.maxPublishers,
    maxSubscribersPerRoom: config.maxSubscribersPerRoom,
    maxSubscribers: config.maxSubscribers,
    maxEventClientsPerRoom: config.maxEventClientsPerRoom,
    ...(config.rtcMinPort !== undefined && config.rtcMaxPort !== undefined ? { rtcPorts: config.rtcMaxPort - config.rtcMinPort + 1 } : {}),
    capacityCores: config.nodeCapacityCores,
    maxWorkerElu: config.maxWorkerElu ?? DEFAULT_MAX_WORKER_ELU,
    maxWorkerLagMs: config.maxWorkerLagMs ?? DEFAULT_MAX_WORKER_LAG_MS,
  };
}

/**
 * A room's load as admission sees it, from its handle: outputs are the sessions that are neither visible publishers
 * nor visible subscribers (hidden recorder/livestream subscribers and in-process taps: an embedded recorder, HLS).
 */
export function roomLoad(room: RoomHandle, eventClients: number): RoomLoad {
  const { publishers, subscribers } = room.counts;
  const outputs = Math.max(0, room.sessionCount - publishers - subscribers);
  const worker = room.workerIndex;
  return {
    name: room.name,
    ladder: room.ladder,
    active: room.mixerState().running || room.sessionCount > 0,
    publishers,
    subscribers,
    outputs,
    eventClients,
    ...(worker !== undefined ? { worker } : {}),
  };
}

/** The room workers' last load reports (p99 event-loop delay as the lag: the max is one GC pause away). */
export function measuredLoad(workers: readonly MediaWorkerView[]): MeasuredLoad {
  return { workers: workers.flatMap((w) => (w.load ? [{ index: w.index, elu: w.load.elu, lagMs: w.load.lagP99Ms }] : [])) };
}

/** Whose session a request sets up: one at a time per room, identity and slot (`publisher:camera`, `publisher:screen`, `subscriber`). */
export interface SessionOwner {
  identity: string;
  slot: string;
}

/**
 * The shell of admission control (the decision is `admit` in libs/core): builds the node's load from the rooms, the
 * events gateway's clients and the room workers' measured load, and refuses with a CapacityError (503,
 * Retry-After, the limit named; a room at its publisher limit: RoomFullError, 409) before anything starts. Sessions being set up are held as reservations.
 */
@Injectable()
export class AdmissionService {
  private readonly logger = new Logger('Admission');
  readonly limits: CapacityLimits;
  private readonly reservations = new Set<AdmissionRequest>();
  /** Sessions being set up, by room, slot and identity (see admitWhile). */
  private readonly settingUp = new Set<string>();
  private eventClients: (room: string) => number = () => 0;
  /** The room workers' measured load (their own reports); replaceable for tests. */
  private workerLoad: () => MeasuredLoad | undefined = () => measuredLoad(this.rooms.workers());

  constructor(
    private readonly rooms: RoomManager,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = limitsFromConfig(config);
  }

  /** The events gateway tells how many WebSocket clients a room has. */
  countEventClientsWith(fn: (room: string) => number): void {
    this.eventClients = fn;
  }

  /** Another source of the room workers' measured load (event-loop utilisation 0–1 and lag), read on every decision. */
  useWorkerLoad(fn: () => MeasuredLoad | undefined): void {
    this.workerLoad = fn;
  }

  /** Rooms with a session being set up right now (not idle, whatever their counts say). */
  roomsJoining(): Set<string> {
    return new Set([...this.reservations].map((r) => r.room));
  }

  load(): NodeLoad {
    const measured = this.workerLoad();
    const rooms = this.rooms.list().map((r) => roomLoad(r, this.eventClients(r.name)));
    return withReservations({ rooms, ...(measured ? { measured } : {}) }, this.reservations);
  }

  summary(): CapacitySummary {
    return capacitySummary(this.load(), this.limits);
  }

  /** Throws CapacityError when the request does not fit; logs the refusal. */
  check(request: AdmissionRequest): void {
    const decision = admit(request, this.load(), this.limits);
    if (decision.ok) return;
    this.logger.warn(logLine(`admission refused (${request.kind}, room ${request.room}, ${decision.limit}): ${decision.message}`, { room: request.room }));
    // a room at its publisher limit is full (409, as promised since the first API), not a node out of capacity
    if (decision.limit === 'max_publishers_per_room') throw new RoomFullError(decision.limit, decision.message);
    throw new CapacityError(decision.limit, decision.message, decision.retryAfterSeconds);
  }

  /**
   * Checks, then runs `start` (the SDP exchange) with the request counted as a reservation until it settles, so that
   * concurrent requests cannot all pass on the same headroom. With an `owner`, the slot of that identity is taken in the
   * same synchronous step: while one session of the identity is being set up in a room (same slot), another one is a
   * 409 at once, before any admission arithmetic, peer or decoder; once it is answered, a new one replaces it.
   */
  async admitWhile<T>(request: AdmissionRequest, start: () => Promise<T>, owner?: SessionOwner): Promise<T> {
    const key = owner && JSON.stringify([request.room, owner.slot, owner.identity]);
    if (key && this.settingUp.has(key)) {
      throw new ConflictError(`a ${owner.slot} session of "${owner.identity}" in room "${request.room}" is being set up; send one offer at a time (a new one replaces the last once it is answered)`);
    }
    this.check(request);
    this.reservations.add(request);
    if (key) this.settingUp.add(key);
    try {
      return await start();
    } finally {
      this.reservations.delete(request);
      if (key) this.settingUp.delete(key);
    }
  }
}
