import { loadConfig } from '@app/config';
import type { RoomHandle, RoomManager } from '@app/media';
import type { AdmissionService } from './admission.service';
import { IdleRoomsService } from './idle-rooms.service';

describe('IdleRoomsService', () => {
  it('deletes a room once it has had no session of any kind for ROOM_IDLE_SECONDS, and no other', () => {
    const rooms = new Map<string, { sessions: number }>([
      ['empty', { sessions: 0 }],
      ['busy', { sessions: 3 }],
      ['recorded', { sessions: 1 }], // only a hidden recorder (or a tap): not visible, still a session
      ['joining', { sessions: 0 }], // a WHEP being answered
    ]);
    const deleted: string[] = [];
    const manager = {
      list: () => [...rooms].map(([name, r]) => ({ name, sessionCount: r.sessions }) as unknown as RoomHandle),
      find: (name: string) => rooms.get(name),
      delete: (name: string) => {
        deleted.push(name);
        rooms.delete(name);
      },
    } as unknown as RoomManager;
    const admission = { roomsJoining: () => new Set(['joining']) } as unknown as AdmissionService;
    const s = new IdleRoomsService(manager, loadConfig({ ROOM_IDLE_SECONDS: '10' }, '/srv', 2), admission);
    s.sweep(0);
    s.sweep(9_999);
    expect(deleted).toEqual([]);
    s.sweep(10_000);
    expect(deleted).toEqual(['empty']);
    s.sweep(60_000);
    expect(deleted).toEqual(['empty']);
  });
});
