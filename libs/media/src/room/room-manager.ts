import { EventEmitter } from 'node:events';
import { ConflictError, NotFoundError, type RoomOptions } from '@app/core';
import { Room, type RoomContext } from './room';

/** Owns every room of this node. `close()` cascades to rooms, their participants and mixers. */
export class RoomManager extends EventEmitter<{ roomCreated: [room: Room]; roomClosed: [name: string] }> {
  private readonly rooms = new Map<string, Room>();

  constructor(private readonly ctx: RoomContext) {
    super();
  }

  create(name: string, options: RoomOptions): Room {
    if (this.rooms.has(name)) throw new ConflictError(`room "${name}" already exists`);
    const room = new Room(name, options, this.ctx);
    this.rooms.set(name, room);
    room.once('closed', () => {
      if (this.rooms.get(name) === room) this.rooms.delete(name);
      this.emit('roomClosed', name);
    });
    this.emit('roomCreated', room);
    this.ctx.logger?.log(`room ${name} created (${options.width}x${options.height}@${options.fps}, ${options.videoCodec} ${options.videoBitrateKbps} kbps)`);
    return room;
  }

  getOrCreate(name: string, options: RoomOptions): Room {
    return this.rooms.get(name) ?? this.create(name, options);
  }

  get(name: string): Room {
    const room = this.rooms.get(name);
    if (!room) throw new NotFoundError(`room "${name}" not found`);
    return room;
  }

  find(name: string): Room | undefined {
    return this.rooms.get(name);
  }

  list(): Room[] {
    return [...this.rooms.values()];
  }

  delete(name: string): void {
    this.get(name).close('room_closed');
  }

  close(): void {
    for (const r of [...this.rooms.values()]) r.close('room_closed');
  }
}
