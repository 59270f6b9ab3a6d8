import { EventEmitter } from 'node:events';
import type { EncodedFrame, MixSource } from '@app/media';

/** Test doubles for the worker's processors: an in-memory status record and a room's mix that sends nothing. */

/** A store of one record with the find/get/update the processors call (cast to the real store type). */
export function memoryRecord<T extends { id: string }>(initial: T) {
  let cur: T = { ...initial };
  return {
    find: async (id: string) => (id === cur.id ? { ...cur } : undefined),
    get: async () => ({ ...cur }),
    update: async (_id: string, patch: Partial<T>) => {
      cur = { ...cur, ...patch };
      return { ...cur };
    },
    current: () => cur,
  };
}

/** A mix source that is open until closed. */
export class SilentMix extends EventEmitter<{ video: [frame: EncodedFrame]; audio: [opus: Buffer, rtpTimestamp: number]; closed: [reason: string] }> implements MixSource {
  readonly videoCodec = 'h264' as const;
  lastMediaAt = Date.now();
  closed = false;
  async close(): Promise<void> {
    this.closed = true;
  }
}
