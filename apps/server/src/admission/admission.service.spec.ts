import { CapacityError, DEFAULT_ROOM_OPTIONS, ladderOf } from '@app/core';
import { type AppConfig, loadConfig } from '@app/config';
import type { MediaWorkerView, RoomHandle, RoomManager } from '@app/media';
import { AdmissionService, limitsFromConfig, measuredLoad, roomLoad } from './admission.service';

/** A room handle as the service reads it: visible counts, all sessions (hidden and taps too), mixer state, ladder, worker. */
function fakeRoom(name: string, o: { publishers?: number; subscribers?: number; outputs?: number; running?: boolean; worker?: number } = {}): RoomHandle {
  const publishers = o.publishers ?? 0;
  const subscribers = o.subscribers ?? 0;
  const sessionCount = publishers + subscribers + (o.outputs ?? 0);
  return {
    name,
    ladder: ladderOf(DEFAULT_ROOM_OPTIONS),
    counts: { publishers, subscribers },
    sessionCount,
    workerIndex: o.worker,
    mixerState: () => ({ running: o.running ?? sessionCount > 0, tiles: [] }),
  } as unknown as RoomHandle;
}
const manager = (rooms: RoomHandle[], workers: MediaWorkerView[] = []) => ({ list: () => rooms, workers: () => workers }) as unknown as RoomManager;
const config = (env: Record<string, string> = {}): AppConfig => loadConfig(env, '/srv', 2);

describe('AdmissionService', () => {
  it('takes its limits from the config, with the UDP range as ports', () => {
    expect(limitsFromConfig(config())).toMatchObject({ maxRooms: 100, maxPublishersPerRoom: 25, capacityCores: 1.7, maxWorkerElu: 0.85, maxWorkerLagMs: 200 });
    expect(limitsFromConfig(config()).rtcPorts).toBeUndefined();
    expect(limitsFromConfig(config({ RTC_MIN_PORT: '40000', RTC_MAX_PORT: '40099' })).rtcPorts).toBe(100);
  });

  it('reads hidden subscribers and taps as outputs, its worker, and a stopped, empty room as inactive', () => {
    expect(roomLoad(fakeRoom('a', { publishers: 2, subscribers: 3, outputs: 2, worker: 1 }), 4)).toMatchObject({ publishers: 2, subscribers: 3, outputs: 2, eventClients: 4, active: true, worker: 1 });
    expect(roomLoad(fakeRoom('b'), 0)).toMatchObject({ active: false, outputs: 0 });
    expect(roomLoad(fakeRoom('b'), 0).worker).toBeUndefined();
    expect(roomLoad(fakeRoom('c', { running: true }), 0).active).toBe(true); // a mixer idling down
  });

  it('takes the measured load from the workers that reported, with their p99 lag', () => {
    const views = [
      { index: 0, threadId: 1, rooms: [], load: { elu: 0.5, lagMaxMs: 900, lagP99Ms: 12 } },
      { index: 1, threadId: 2, rooms: [] },
    ];
    expect(measuredLoad(views)).toEqual({ workers: [{ index: 0, elu: 0.5, lagMs: 12 }] });
    const s = new AdmissionService(manager([fakeRoom('a', { publishers: 1, worker: 0 })], [{ index: 0, threadId: 1, rooms: ['a'], load: { elu: 0.97, lagMaxMs: 30, lagP99Ms: 20 } }]), config());
    expect(() => s.check({ kind: 'subscriber', room: 'a' })).toThrow(expect.objectContaining({ limit: 'worker_load' }));
  });

  it('throws a CapacityError naming the limit', () => {
    const s = new AdmissionService(manager([fakeRoom('a'), fakeRoom('b')]), config({ MAX_ROOMS: '2' }));
    expect(() => s.check({ kind: 'room', room: 'c' })).toThrow(CapacityError);
    expect(() => s.check({ kind: 'room', room: 'c' })).toThrow(expect.objectContaining({ code: 'capacity_exceeded', limit: 'max_rooms', retryAfterSeconds: 60 }));
    expect(() => s.check({ kind: 'room', room: 'a' })).not.toThrow();
  });

  it('holds a session being set up as a reservation, so that a concurrent one cannot take the same slot', async () => {
    const s = new AdmissionService(manager([fakeRoom('a', { publishers: 1 })]), config({ MAX_SUBSCRIBERS_PER_ROOM: '1' }));
    let finish!: () => void;
    const first = s.admitWhile({ kind: 'subscriber', room: 'a' }, () => new Promise<string>((r) => (finish = () => r('answer'))));
    await expect(s.admitWhile({ kind: 'subscriber', room: 'a' }, async () => 'never')).rejects.toMatchObject({ limit: 'max_subscribers_per_room' });
    expect(s.summary().used.subscribers).toBe(1);
    expect(s.roomsJoining()).toEqual(new Set(['a'])); // not idle while a session joins
    finish();
    await expect(first).resolves.toBe('answer');
    expect(s.summary().used.subscribers).toBe(0); // released (the room's own counts take over once it joined)
    expect(s.roomsJoining().size).toBe(0);
  });

  it('takes one slot per room, identity and kind synchronously: a concurrent session of the same identity is a 409 at once', async () => {
    const s = new AdmissionService(manager([fakeRoom('a'), fakeRoom('b')]), config());
    let finish!: () => void;
    let starts = 0;
    const slow = () => new Promise<string>((r) => (starts++, (finish = () => r('first'))));
    const owner = { identity: 'ann', slot: 'publisher:camera' };
    const first = s.admitWhile({ kind: 'publisher', room: 'a' }, slow, owner);
    const again = s.admitWhile({ kind: 'publisher', room: 'a' }, async () => 'second', owner);
    await expect(again).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('"ann"') });
    expect(starts).toBe(1); // the refused one started nothing
    expect(s.summary().used.publishers).toBe(1); // and reserved nothing
    // other slots, identities and rooms are free
    await expect(s.admitWhile({ kind: 'publisher', room: 'a' }, async () => 'screen', { identity: 'ann', slot: 'publisher:screen' })).resolves.toBe('screen');
    await expect(s.admitWhile({ kind: 'subscriber', room: 'a' }, async () => 'viewer', { identity: 'ann', slot: 'subscriber' })).resolves.toBe('viewer');
    await expect(s.admitWhile({ kind: 'publisher', room: 'a' }, async () => 'bob', { identity: 'bob', slot: 'publisher:camera' })).resolves.toBe('bob');
    await expect(s.admitWhile({ kind: 'publisher', room: 'b' }, async () => 'elsewhere', owner)).resolves.toBe('elsewhere');
    finish();
    await expect(first).resolves.toBe('first');
    // answered: the next one of the identity goes ahead (and replaces it in the room)
    await expect(s.admitWhile({ kind: 'publisher', room: 'a', replaces: true }, async () => 'replacement', owner)).resolves.toBe('replacement');
  });

  it('counts publishers being set up against MAX_PUBLISHERS (node-wide)', async () => {
    const s = new AdmissionService(manager([fakeRoom('a', { publishers: 1 }), fakeRoom('b')]), config({ MAX_PUBLISHERS: '2' }));
    let finish!: () => void;
    const pending = s.admitWhile({ kind: 'publisher', room: 'b' }, () => new Promise<void>((r) => (finish = r)), { identity: 'x', slot: 'publisher:camera' });
    await expect(s.admitWhile({ kind: 'publisher', room: 'b' }, async () => 'no', { identity: 'y', slot: 'publisher:camera' })).rejects.toMatchObject({ limit: 'max_publishers' });
    finish();
    await pending;
  });

  it('releases the reservation when the setup fails', async () => {
    const s = new AdmissionService(manager([fakeRoom('a', { publishers: 1 })]), config({ MAX_SUBSCRIBERS_PER_ROOM: '1' }));
    await expect(s.admitWhile({ kind: 'subscriber', room: 'a' }, async () => Promise.reject(new Error('bad SDP')))).rejects.toThrow('bad SDP');
    await expect(s.admitWhile({ kind: 'subscriber', room: 'a' }, async () => 'ok')).resolves.toBe('ok');
  });

  it('counts events clients and measured worker load when they are wired', () => {
    const s = new AdmissionService(manager([fakeRoom('a', { publishers: 1 })]), config({ MAX_EVENT_CLIENTS_PER_ROOM: '2' }));
    s.countEventClientsWith((room) => (room === 'a' ? 2 : 0));
    expect(() => s.check({ kind: 'events', room: 'a' })).toThrow(expect.objectContaining({ limit: 'max_event_clients_per_room' }));
    s.useWorkerLoad(() => ({ workers: [{ elu: 0.99, lagMs: 10 }] }));
    expect(() => s.check({ kind: 'publisher', room: 'a' })).toThrow(expect.objectContaining({ limit: 'worker_load' }));
    expect(s.summary().workersOverloaded).toBe(true);
  });
});
