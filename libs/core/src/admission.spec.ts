import { admit, type AdmissionRequest, replacesSession, RETRY_AFTER_SECONDS, withReservations } from './admission';
import { type CapacityLimits, COST_MODEL, type NodeLoad, roomBaseCores, roomCores, type RoomLoad } from './capacity';
import { CapacityError, DomainError, HTTP_STATUS_BY_CODE } from './errors';
import { ladderOf } from './renditions';
import { DEFAULT_ROOM_OPTIONS } from './validation';

const LADDER = ladderOf(DEFAULT_ROOM_OPTIONS);
const room = (name: string, o: Partial<RoomLoad> = {}): RoomLoad => ({ name, ladder: LADDER, active: true, publishers: 0, subscribers: 0, outputs: 0, eventClients: 0, ...o });
const LIMITS: CapacityLimits = { maxRooms: 10, maxPublishersPerRoom: 25, maxSubscribersPerRoom: 100, maxSubscribers: 500, maxEventClientsPerRoom: 200, capacityCores: 100, maxWorkerElu: 0.85, maxWorkerLagMs: 200 };
const load = (...rooms: RoomLoad[]): NodeLoad => ({ rooms });
const refusedBy = (d: ReturnType<typeof admit>) => (d.ok ? 'ok' : d.limit);

describe('admit: rooms', () => {
  it('admits a new room below MAX_ROOMS and refuses it at the limit, naming it', () => {
    expect(admit({ kind: 'room', room: 'c' }, load(room('a')), { ...LIMITS, maxRooms: 2 })).toEqual({ ok: true });
    const d = admit({ kind: 'room', room: 'c' }, load(room('a'), room('b')), { ...LIMITS, maxRooms: 2 });
    expect(d).toEqual({ ok: false, limit: 'max_rooms', message: expect.stringContaining('MAX_ROOMS'), retryAfterSeconds: RETRY_AFTER_SECONDS.max_rooms });
  });

  it('admits a room that already exists (nothing new starts) even at the limit', () => {
    expect(admit({ kind: 'room', room: 'a' }, load(room('a'), room('b')), { ...LIMITS, maxRooms: 2 }).ok).toBe(true);
  });

  it('does not charge cores for creating a room (its mixer starts with the first participant)', () => {
    expect(admit({ kind: 'room', room: 'new' }, load(), { ...LIMITS, capacityCores: 0.01 }).ok).toBe(true);
  });
});

describe('admit: publishers', () => {
  it('refuses at MAX_PUBLISHERS_PER_ROOM unless the identity replaces its own session', () => {
    const l = load(room('a', { publishers: 3 }));
    const limits = { ...LIMITS, maxPublishersPerRoom: 3 };
    expect(refusedBy(admit({ kind: 'publisher', room: 'a' }, l, limits))).toBe('max_publishers_per_room');
    expect(admit({ kind: 'publisher', room: 'a', replaces: true }, l, limits).ok).toBe(true);
    expect(admit({ kind: 'publisher', room: 'a' }, load(room('a', { publishers: 2 })), limits).ok).toBe(true);
  });

  it('refuses a publisher over the node-wide MAX_PUBLISHERS, counting sessions being set up', () => {
    const limits = { ...LIMITS, maxPublishers: 3 };
    const l = load(room('a', { publishers: 2 }), room('b', { publishers: 0 }));
    expect(admit({ kind: 'publisher', room: 'b' }, l, limits).ok).toBe(true);
    const withPending = withReservations(l, [{ kind: 'publisher', room: 'b' }]);
    expect(refusedBy(admit({ kind: 'publisher', room: 'b' }, withPending, limits))).toBe('max_publishers');
    expect(admit({ kind: 'publisher', room: 'a', replaces: true }, withPending, limits).ok).toBe(true);
  });

  it('charges the room base for the first publisher of a stopped room', () => {
    const stopped = load(room('a', { active: false }));
    const needed = roomBaseCores(LADDER) + COST_MODEL.publisherCores;
    expect(admit({ kind: 'publisher', room: 'a' }, stopped, { ...LIMITS, capacityCores: needed + 0.001 }).ok).toBe(true);
    const d = admit({ kind: 'publisher', room: 'a' }, stopped, { ...LIMITS, capacityCores: needed - 0.001 });
    expect(d).toMatchObject({ ok: false, limit: 'capacity_cores', retryAfterSeconds: 30 });
    expect(!d.ok && d.message).toMatch(/NODE_CAPACITY_CORES/);
  });

  it('charges only the publisher in a running room', () => {
    const running = room('a', { publishers: 2, subscribers: 1 });
    const used = roomCores(running);
    expect(admit({ kind: 'publisher', room: 'a' }, load(running), { ...LIMITS, capacityCores: used + COST_MODEL.publisherCores + 0.0001 }).ok).toBe(true);
    expect(refusedBy(admit({ kind: 'publisher', room: 'a' }, load(running), { ...LIMITS, capacityCores: used + COST_MODEL.publisherCores - 0.0001 }))).toBe('capacity_cores');
  });

  it('counts every running room against the budget (never degrades them by admitting one more)', () => {
    const busy = room('busy', { publishers: 9, subscribers: 20 });
    const limits = { ...LIMITS, capacityCores: roomCores(busy) + 0.1 };
    expect(refusedBy(admit({ kind: 'publisher', room: 'quiet' }, load(busy, room('quiet', { active: false })), limits))).toBe('capacity_cores');
  });

  it('admits a replacement even with the budget spent', () => {
    expect(admit({ kind: 'publisher', room: 'a', replaces: true }, load(room('a', { publishers: 1 })), { ...LIMITS, capacityCores: 0.01 }).ok).toBe(true);
  });
});

describe('admit: subscribers and outputs', () => {
  it('refuses at MAX_SUBSCRIBERS_PER_ROOM, then at MAX_SUBSCRIBERS over all rooms', () => {
    expect(refusedBy(admit({ kind: 'subscriber', room: 'a' }, load(room('a', { subscribers: 1 })), { ...LIMITS, maxSubscribersPerRoom: 1 }))).toBe('max_subscribers_per_room');
    const two = load(room('a', { subscribers: 2 }), room('b', { subscribers: 3 }));
    expect(refusedBy(admit({ kind: 'subscriber', room: 'a' }, two, { ...LIMITS, maxSubscribers: 5 }))).toBe('max_subscribers');
    expect(admit({ kind: 'subscriber', room: 'a' }, two, { ...LIMITS, maxSubscribers: 6 }).ok).toBe(true);
  });

  it('lets a viewer replace its own subscription at the limit', () => {
    expect(admit({ kind: 'subscriber', room: 'a', replaces: true }, load(room('a', { subscribers: 1 })), { ...LIMITS, maxSubscribersPerRoom: 1 }).ok).toBe(true);
  });

  it('does not count outputs (hidden recorders) against the subscriber limits, but against ports and cores', () => {
    const l = load(room('a', { subscribers: 1 }));
    expect(admit({ kind: 'output', room: 'a' }, l, { ...LIMITS, maxSubscribersPerRoom: 1, maxSubscribers: 1 }).ok).toBe(true);
    expect(refusedBy(admit({ kind: 'output', room: 'a', }, l, { ...LIMITS, rtcPorts: 1 }))).toBe('rtc_ports');
    expect(refusedBy(admit({ kind: 'output', room: 'a' }, l, { ...LIMITS, capacityCores: roomCores(room('a', { subscribers: 1 })) }))).toBe('capacity_cores');
  });
});

describe('admit: UDP ports', () => {
  it('counts one port per WebRTC session when the range is bounded', () => {
    const l = load(room('a', { publishers: 2, subscribers: 1, outputs: 1 }));
    expect(refusedBy(admit({ kind: 'publisher', room: 'a' }, l, { ...LIMITS, rtcPorts: 4 }))).toBe('rtc_ports');
    expect(admit({ kind: 'publisher', room: 'a' }, l, { ...LIMITS, rtcPorts: 5 }).ok).toBe(true);
    expect(admit({ kind: 'publisher', room: 'a' }, l, LIMITS).ok).toBe(true);
  });
});

describe('admit: events clients', () => {
  it('refuses at MAX_EVENT_CLIENTS_PER_ROOM, costing nothing else', () => {
    expect(refusedBy(admit({ kind: 'events', room: 'a' }, load(room('a', { eventClients: 2 })), { ...LIMITS, maxEventClientsPerRoom: 2 }))).toBe('max_event_clients_per_room');
    expect(admit({ kind: 'events', room: 'a' }, load(room('a', { eventClients: 1 })), { ...LIMITS, maxEventClientsPerRoom: 2, capacityCores: 0 }).ok).toBe(true);
  });
});

describe('admit: measured worker load', () => {
  const l = (workers: Array<{ elu: number; lagMs: number }>): NodeLoad => ({ rooms: [room('a', { publishers: 1 })], measured: { workers } });

  it('refuses new sessions when every worker is above 0.85 ELU, or above 200 ms lag while busy', () => {
    const d = admit({ kind: 'subscriber', room: 'a' }, l([{ elu: 0.95, lagMs: 20 }, { elu: 0.82, lagMs: 450 }]), LIMITS);
    expect(d).toMatchObject({ ok: false, limit: 'worker_load', retryAfterSeconds: RETRY_AFTER_SECONDS.worker_load });
  });

  it('does not count lag in a mostly idle worker (a join burst or a crowded machine, not a full worker)', () => {
    expect(admit({ kind: 'subscriber', room: 'a' }, l([{ elu: 0.95, lagMs: 20 }, { elu: 0.29, lagMs: 271 }]), LIMITS).ok).toBe(true);
    expect(admit({ kind: 'subscriber', room: 'a' }, l([{ elu: 0.95, lagMs: 20 }, { elu: 0.71, lagMs: 256 }]), LIMITS).ok).toBe(true);
  });

  it('admits while one worker has headroom, and when nothing is measured', () => {
    expect(admit({ kind: 'subscriber', room: 'a' }, l([{ elu: 0.95, lagMs: 20 }, { elu: 0.4, lagMs: 20 }]), LIMITS).ok).toBe(true);
    expect(admit({ kind: 'subscriber', room: 'a' }, l([]), LIMITS).ok).toBe(true);
  });

  it('judges a room by its own worker when it is tied to a measured one', () => {
    const measured = { workers: [{ index: 0, elu: 0.95, lagMs: 20 }, { index: 1, elu: 0.2, lagMs: 5 }] };
    const onBusy = { rooms: [room('a', { publishers: 1, worker: 0 })], measured };
    const onIdle = { rooms: [room('a', { publishers: 1, worker: 1 })], measured };
    const d = admit({ kind: 'publisher', room: 'a' }, onBusy, LIMITS);
    expect(d).toMatchObject({ ok: false, limit: 'worker_load' });
    expect(!d.ok && d.message).toMatch(/media worker of room "a".*0\.95/);
    expect(admit({ kind: 'publisher', room: 'a' }, onIdle, LIMITS).ok).toBe(true);
    // a worker that has not reported yet: the node-wide rule
    expect(admit({ kind: 'publisher', room: 'a' }, { rooms: [room('a', { worker: 7 })], measured }, LIMITS).ok).toBe(true);
    expect(admit({ kind: 'publisher', room: 'a' }, { rooms: [room('a', { worker: 7 })], measured: { workers: [{ index: 0, elu: 0.99, lagMs: 0 }] } }, LIMITS).ok).toBe(false);
  });

  it('still lets a session replace its own', () => {
    expect(admit({ kind: 'publisher', room: 'a', replaces: true }, l([{ elu: 1, lagMs: 1000 }]), LIMITS).ok).toBe(true);
  });
});

describe('admit: rooms this node does not have', () => {
  it('leaves the 404 to the caller', () => {
    for (const kind of ['publisher', 'subscriber', 'output', 'events'] as const) expect(admit({ kind, room: 'nope' }, load(), { ...LIMITS, capacityCores: 0 }).ok).toBe(true);
  });
});

describe('withReservations', () => {
  it('counts sessions being set up, so that concurrent requests cannot share the same headroom', () => {
    const base = load(room('a', { active: false }), room('b'));
    const pending: AdmissionRequest[] = [
      { kind: 'publisher', room: 'a' },
      { kind: 'subscriber', room: 'a' },
      { kind: 'subscriber', room: 'a', replaces: true },
      { kind: 'output', room: 'b' },
      { kind: 'events', room: 'b' },
      { kind: 'publisher', room: 'gone' },
    ];
    const l = withReservations(base, pending);
    expect(l.rooms.find((r) => r.name === 'a')).toMatchObject({ active: true, publishers: 1, subscribers: 1 });
    expect(l.rooms.find((r) => r.name === 'b')).toMatchObject({ outputs: 1, eventClients: 0 });
    expect(base.rooms[0]).toMatchObject({ active: false, publishers: 0 });
    const limits = { ...LIMITS, maxSubscribersPerRoom: 1 };
    expect(admit({ kind: 'subscriber', room: 'a' }, base, limits).ok).toBe(true);
    expect(refusedBy(admit({ kind: 'subscriber', room: 'a' }, l, limits))).toBe('max_subscribers_per_room');
  });
});

describe('replacesSession', () => {
  const people = [{ identity: 'ann', publisher: {}, subscriber: {} }, { identity: 'bob', screen: {} }];
  it('knows who already publishes which source and who already subscribes', () => {
    expect(replacesSession(people, 'ann', 'publisher')).toBe(true);
    expect(replacesSession(people, 'ann', 'publisher', 'screen')).toBe(false);
    expect(replacesSession(people, 'bob', 'publisher', 'screen')).toBe(true);
    expect(replacesSession(people, 'bob', 'publisher')).toBe(false);
    expect(replacesSession(people, 'ann', 'subscriber')).toBe(true);
    expect(replacesSession(people, 'bob', 'subscriber')).toBe(false);
    expect(replacesSession(people, 'cy', 'publisher')).toBe(false);
  });
});

describe('CapacityError', () => {
  it('is a 503 domain error carrying the limit and Retry-After', () => {
    const e = new CapacityError('max_rooms', 'full', 60);
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({ code: 'capacity_exceeded', limit: 'max_rooms', retryAfterSeconds: 60, message: 'full', name: 'CapacityError' });
    expect(HTTP_STATUS_BY_CODE[e.code]).toBe(503);
  });
});
