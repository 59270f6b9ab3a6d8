import type { Redis } from 'ioredis';
import type { RoomEventBody } from '@app/core';
import { KEY_PREFIX } from './queues';

export const roomEventsChannel = (room: string): string => `${KEY_PREFIX}:events:${room}`;
export const roomEventsSeqKey = (room: string): string => `${KEY_PREFIX}:events:seq:${room}`;

/**
 * Numbers and publishes in one atomic step, so the room-scoped sequence is the order subscribers receive: INCR the
 * room's counter, splice `"seq":n` into the JSON (no re-encoding), PUBLISH, return the message.
 */
const PUBLISH_LUA = `
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 2592000)
local msg = '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2)
redis.call('PUBLISH', KEYS[2], msg)
return msg`;

/**
 * Publishes a room's events through Redis pub/sub, where every node's gateway (today one; later several) picks them
 * up. Used by the server (participants, tracks, speaker, layout) and by workers (recording and livestream status).
 */
export class RoomEventPublisher {
  constructor(
    private readonly redis: Redis,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  /** Resolves to the published JSON (with `seq`), or undefined when Redis refused (logged, never thrown). */
  async publish(room: string, body: RoomEventBody): Promise<string | undefined> {
    const json = JSON.stringify({ ...body, room, timestamp: new Date().toISOString() });
    try {
      return (await this.redis.eval(PUBLISH_LUA, 2, roomEventsSeqKey(room), roomEventsChannel(room), json)) as string;
    } catch (e) {
      this.onError(`could not publish ${body.type} of room ${room}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** The last sequence number used in a room (0 before its first event). */
  async currentSeq(room: string): Promise<number> {
    return Number((await this.redis.get(roomEventsSeqKey(room))) ?? 0);
  }
}

type Listener = (json: string) => void;

/**
 * One Redis subscriber connection for all rooms of this node; listeners get each message's JSON string as published
 * (sent on to WebSocket clients as is, never re-serialized per client).
 */
export class RoomEventSubscriber {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly resubscribed = new Set<() => void>();

  constructor(private readonly sub: Redis) {
    sub.on('message', (channel: string, message: string) => {
      for (const l of this.listeners.get(channel) ?? []) l(message);
    });
    // After a lost connection the subscriptions are made again (ioredis does, and so do we, to know when they hold):
    // events published in between never reached this node, so its clients must be brought up to date.
    let wasReady = false;
    sub.on('ready', () => {
      if (!wasReady) return void (wasReady = true);
      const channels = [...this.listeners.keys()];
      void (channels.length ? this.sub.subscribe(...channels) : Promise.resolve()).then(
        () => this.resubscribed.forEach((f) => f()),
        () => undefined, // lost again: the next 'ready' tries again
      );
    });
  }

  /** `f` runs each time the subscriber is back after a lost connection (it may have missed events). */
  onResubscribed(f: () => void): void {
    this.resubscribed.add(f);
  }

  /** Resolves once Redis confirms the subscription; returns the unsubscribe function. */
  async subscribe(room: string, listener: Listener): Promise<() => void> {
    const channel = roomEventsChannel(room);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    await this.sub.subscribe(channel);
    return () => {
      const s = this.listeners.get(channel);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) {
        this.listeners.delete(channel);
        this.sub.unsubscribe(channel).catch(() => undefined);
      }
    };
  }
}
