/**
 * Entry point of a room worker thread: hosts the rooms the main thread assigns to it (their werift peers, decoders,
 * mixer, audio mix and fan-out) and talks to the main thread only by messages (see protocol.ts).
 * An uncaught error ends this thread, and with it only the rooms it hosts; the main thread sees the exit and recovers.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { logUnhandledRejections, NotFoundError } from '@app/core';
import { observeChildren, useSpawner } from '../ffmpeg/supervised-process';
import type { Logger } from '../logger';
import { opusImplementation } from '../mixer/opus-codec';
import type { MixTap } from '../room/mix-tap';
import { Room } from '../room/room';
import type { MainToWorker, RoomMediaState, WorkerRequest, WorkerRoomContext, WorkerToMain } from './protocol';
import { serializeError } from './protocol';

const port = parentPort;
if (!port) throw new Error('room-worker.ts runs as a worker thread only');

const post = (m: WorkerToMain) => port.postMessage(m);
observeChildren((pid, alive) => post({ type: 'child', pid, alive }));
const rooms = new Map<string, Room>();
const taps = new Map<string, { room: string; tap: MixTap }>();
let ctx: WorkerRoomContext | undefined;

const logger: Logger = {
  log: (message, fields) => post({ type: 'log', level: 'log', message, fields }),
  warn: (message, fields) => post({ type: 'log', level: 'warn', message, fields }),
  error: (message, fields) => post({ type: 'log', level: 'error', message, fields }),
  debug: (message, fields) => {
    if (ctx?.debugLogs) post({ type: 'log', level: 'debug', message, fields });
  },
};

// ffmpeg children are forked by a small helper process: a fork of this big process stalls every room's thread
useSpawner(logger);
// a rejection nobody handled is logged (through the main thread); it does not end this thread and its rooms
logUnhandledRejections((m) => logger.error?.(m));

function stateOf(room: Room): RoomMediaState {
  const sessions = room.sessions();
  const counts = room.counts;
  return {
    options: room.options,
    counts: { ...counts, hidden: sessions.filter((s) => s.hidden).length, taps: room.tapCount },
    participants: room.participants(),
    sessions,
    delivery: room.deliveryStats(),
    mixer: room.mixerState(),
    pids: room.mixerPids(),
    sampledAt: Date.now(),
  };
}

/** Rooms are keyed by their incarnation key (`name#n`), which the messages carry. */
const keyOf = new WeakMap<Room, string>();
const pushState = (room: Room) => {
  const key = keyOf.get(room);
  if (key && !room.isClosed) post({ type: 'state', room: key, state: stateOf(room) });
};

function roomOf(name: string): Room {
  const room = rooms.get(name);
  if (!room) throw new NotFoundError(`room "${name}" not found`);
  return room;
}

async function handle(r: WorkerRequest): Promise<unknown> {
  if (!ctx) throw new Error('room worker not initialised');
  switch (r.op) {
    case 'createRoom': {
      rooms.get(r.room)?.close('room_closed');
      const room = new Room(r.name, r.options, { ...ctx, logger });
      rooms.set(r.room, room);
      keyOf.set(room, r.room);
      room.on('event', (event) => {
        post({ type: 'event', room: r.room, event });
        pushState(room);
      });
      room.on('changed', () => pushState(room)); // e.g. a subscriber's switch: its view follows at once, not within a second
      room.once('closed', (reason) => {
        if (rooms.get(r.room) === room) rooms.delete(r.room);
        post({ type: 'roomClosed', room: r.room, reason });
      });
      pushState(room);
      return null;
    }
    case 'closeRoom':
      rooms.get(r.room)?.close(r.reason);
      return null;
    case 'publish':
    case 'subscribe': {
      const room = roomOf(r.room);
      const res = r.op === 'publish' ? await room.publish(r.grants, r.offer, r.source) : await room.subscribe(r.grants, r.offer);
      pushState(room); // before the reply: the main thread lists the session as soon as the client has its answer
      return res;
    }
    case 'leave': {
      const room = roomOf(r.room);
      room.leave(r.kind, r.id);
      pushState(room);
      return null;
    }
    case 'update': {
      const room = roomOf(r.room);
      const options = room.update(r.update);
      pushState(room);
      return options;
    }
    case 'mute': {
      const room = roomOf(r.room);
      room.setMuted(r.identity, { audio: r.audio, video: r.video });
      pushState(room);
      return null;
    }
    case 'openTap': {
      const room = roomOf(r.room);
      const tap = await room.tap({ video: r.video });
      taps.set(r.tap, { room: r.room, tap });
      tap.on('video', (frame) => post({ type: 'tapVideo', tap: r.tap, frame }));
      tap.on('audio', (opus, rtpTimestamp) => post({ type: 'tapAudio', tap: r.tap, opus, rtpTimestamp }));
      tap.once('closed', (reason) => {
        taps.delete(r.tap);
        post({ type: 'tapClosed', tap: r.tap, reason });
      });
      pushState(room);
      return { videoCodec: tap.videoCodec };
    }
    case 'closeTap': {
      const t = taps.get(r.tap);
      taps.delete(r.tap);
      await t?.tap.close();
      const room = t && rooms.get(t.room);
      if (room) pushState(room);
      return null;
    }
  }
}

port.on('message', (m: MainToWorker) => {
  if (m.type === 'init') {
    ctx = m.ctx;
    return;
  }
  if (m.type === 'crash') {
    setImmediate(() => {
      throw new Error('injected fault: room worker crash requested');
    });
    return;
  }
  handle(m.request).then(
    (value) => post({ type: 'reply', id: m.id, ok: true, value: value ?? null }),
    (e: unknown) => post({ type: 'reply', id: m.id, ok: false, error: serializeError(e) }),
  );
});

// Stats for the main thread's views and metrics, and this thread's load for admission control: smoothed over ~5 s, so
// that the burst of work of a join (a DTLS handshake, a decoder spawn) does not read as an overloaded worker.
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
let lastElu = performance.eventLoopUtilization();
let smoothElu: number | undefined;
const recentP99: number[] = [];
setInterval(() => {
  for (const room of rooms.values()) pushState(room);
  const elu = performance.eventLoopUtilization(lastElu).utilization;
  lastElu = performance.eventLoopUtilization();
  smoothElu = smoothElu === undefined ? elu : smoothElu + 0.3 * (elu - smoothElu);
  recentP99.push(delay.percentile(99) / 1e6);
  if (recentP99.length > 5) recentP99.shift();
  const p99 = [...recentP99].sort((a, b) => a - b)[Math.floor(recentP99.length / 2)];
  const lagMaxMs = delay.max / 1e6;
  post({ type: 'load', load: { elu: smoothElu, lagMaxMs, lagP99Ms: p99 } });
  if (lagMaxMs > 150) logger.warn(`room worker (${[...rooms.values()].map((r) => r.name).join(', ') || 'no rooms'}): its event loop was blocked for up to ${Math.round(lagMaxMs)} ms in the last second`);
  delay.reset();
}, 1000).unref();

opusImplementation(); // load libopus now, not in the first publisher's join (~90 ms)
post({ type: 'ready' });
