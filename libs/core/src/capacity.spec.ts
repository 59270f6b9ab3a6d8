import { capacitySummary, COST_MODEL, encoderCores, nodeUsage, roomBaseCores, roomCores, type RoomLoad, workersOverloaded } from './capacity';
import { DEFAULT_ROOM_OPTIONS } from './validation';
import { ladderOf } from './renditions';

const LADDER = ladderOf(DEFAULT_ROOM_OPTIONS); // 720p30, 360p30, 180p20
const room = (o: Partial<RoomLoad> = {}): RoomLoad => ({ name: 'r', ladder: LADDER, active: true, publishers: 0, subscribers: 0, outputs: 0, eventClients: 0, ...o });
const limits = { maxRooms: 10, maxPublishersPerRoom: 25, maxSubscribersPerRoom: 100, maxSubscribers: 500, maxEventClientsPerRoom: 200, capacityCores: 1.7, maxWorkerElu: 0.85, maxWorkerLagMs: 200 };

describe('the cost model', () => {
  it('prices a 720p30 encoder at the reference and a 360p one at about a third of it', () => {
    expect(encoderCores({ width: 1280, height: 720, fps: 30 })).toBeCloseTo(COST_MODEL.referenceEncoderCores, 6);
    const ratio = encoderCores({ width: 640, height: 360, fps: 30 }) / encoderCores({ width: 1280, height: 720, fps: 30 });
    expect(ratio).toBeGreaterThan(0.3);
    expect(ratio).toBeLessThan(0.36);
  });

  it('prices a bigger encoder higher and a degenerate one at zero', () => {
    expect(encoderCores({ width: 1920, height: 1080, fps: 30 })).toBeGreaterThan(0.25);
    expect(encoderCores({ width: 0, height: 0, fps: 30 })).toBe(0);
  });

  it('makes the default room with 4 publishers and 1 viewer cost about 0.45 core (the bench)', () => {
    expect(roomCores(room({ publishers: 4, subscribers: 1 }))).toBeCloseTo(0.45, 2);
  });

  it('adds one subscriber at 0.0073 core and one output at its own price', () => {
    const base = roomCores(room({ publishers: 2 }));
    expect(roomCores(room({ publishers: 2, subscribers: 1 })) - base).toBeCloseTo(0.0073, 6);
    expect(roomCores(room({ publishers: 2, outputs: 1 })) - base).toBeCloseTo(COST_MODEL.outputCores, 6);
  });

  it('charges a room with fewer renditions less, and a stopped room nothing', () => {
    expect(roomBaseCores(LADDER.slice(0, 1))).toBeLessThan(roomBaseCores(LADDER));
    expect(roomCores(room({ active: false, publishers: 0 }))).toBe(0);
  });
});

describe('node usage and the summary', () => {
  it('sums rooms, counting one port per WebRTC session', () => {
    const u = nodeUsage({ rooms: [room({ name: 'a', publishers: 2, subscribers: 3, outputs: 1 }), room({ name: 'b', active: false })] });
    expect(u).toMatchObject({ rooms: 2, publishers: 2, subscribers: 3, outputs: 1, ports: 6 });
    expect(u.cores).toBeCloseTo(roomCores(room({ publishers: 2, subscribers: 3, outputs: 1 })), 6);
  });

  it('shows limits, used and left, never below zero; ports only when bounded', () => {
    const s = capacitySummary({ rooms: [room({ name: 'a', publishers: 20 }), room({ name: 'b', publishers: 20 })] }, { ...limits, maxRooms: 1 });
    expect(s.limits).toMatchObject({ rooms: 1, cores: 1.7 });
    expect(s.limits.ports).toBeUndefined();
    expect(s.left.rooms).toBe(0);
    expect(s.left.cores).toBe(0);
    expect(s.cores.used).toBeGreaterThan(1.7);
    expect(s.workersOverloaded).toBeUndefined();
    const bounded = capacitySummary({ rooms: [room({ publishers: 1, subscribers: 1 })], measured: { workers: [{ elu: 0.2, lagMs: 5 }] } }, { ...limits, rtcPorts: 10 });
    expect(bounded.left.ports).toBe(8);
    expect(bounded.limits.ports).toBe(10);
    expect(bounded.workersOverloaded).toBe(false);
  });

  it('rounds cores to thousandths', () => {
    const s = capacitySummary({ rooms: [room({ publishers: 1 })] }, limits);
    expect(String(s.cores.used).split('.')[1]?.length ?? 0).toBeLessThanOrEqual(3);
  });
});

describe('measured worker load', () => {
  it('is overloaded only when every worker is above the ELU threshold, or above the lag threshold while busy', () => {
    expect(workersOverloaded(undefined, limits)).toBe(false);
    expect(workersOverloaded({ workers: [] }, limits)).toBe(false);
    expect(workersOverloaded({ workers: [{ elu: 0.9, lagMs: 10 }, { elu: 0.3, lagMs: 10 }] }, limits)).toBe(false);
    expect(workersOverloaded({ workers: [{ elu: 0.9, lagMs: 10 }, { elu: 0.82, lagMs: 250 }] }, limits)).toBe(true);
    // lag in a mostly idle loop: a join's burst or a crowded machine, not a full worker
    expect(workersOverloaded({ workers: [{ elu: 0.9, lagMs: 10 }, { elu: 0.3, lagMs: 250 }] }, limits)).toBe(false);
    expect(workersOverloaded({ workers: [{ elu: 0.85, lagMs: 200 }] }, limits)).toBe(false);
  });
});
