import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CapacityError, DomainError, type ErrorCode } from '@app/core';
import { KEY_PREFIX } from './queues';

const channelOf = (node: string) => `${KEY_PREFIX}:rpc:${node}`;

interface Request {
  id: string;
  from: string;
  op: string;
  args: unknown;
}
interface Reply {
  re: string;
  ok: boolean;
  value?: unknown;
  error?: { code: ErrorCode; message: string; retryAfterSeconds?: number; limit?: string };
}

export type NodeBusHandler = (op: string, args: unknown) => Promise<unknown>;

/** A DomainError thrown on the other node comes back as one here (same code, so the same HTTP status). */
function toReplyError(e: unknown): Reply['error'] {
  if (e instanceof CapacityError) return { code: e.code, message: e.message, retryAfterSeconds: e.retryAfterSeconds, limit: e.limit };
  if (e instanceof DomainError) return { code: e.code, message: e.message, ...(e.retryAfterSeconds !== undefined ? { retryAfterSeconds: e.retryAfterSeconds } : {}) };
  return { code: 'internal_error', message: (e as Error)?.message ?? String(e) };
}

function fromReplyError(e: NonNullable<Reply['error']>): DomainError {
  if (e.code === 'capacity_exceeded' && e.limit) return new CapacityError(e.limit, e.message, e.retryAfterSeconds ?? 5);
  return new DomainError(e.code, e.message, e.retryAfterSeconds);
}

/**
 * Requests from one node to another through Redis pub/sub (admin actions on a room, session DELETEs, snapshots): each
 * node listens on its own channel for requests and for the replies to its own calls. A call that gets no reply in
 * time (the node died) fails with 503 `unavailable`.
 */
export class NodeBus {
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private handler: NodeBusHandler = async (op) => {
    throw new DomainError('bad_request', `unknown node request "${op}"`);
  };

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    readonly nodeId: string,
    private readonly onError: (m: string) => void = () => undefined,
  ) {
    sub.on('message', (channel: string, message: string) => {
      if (channel === channelOf(nodeId)) this.onMessage(message);
    });
  }

  async start(handler: NodeBusHandler): Promise<void> {
    this.handler = handler;
    await this.sub.subscribe(channelOf(this.nodeId));
  }

  call<T>(node: string, op: string, args: unknown, timeoutMs = 3000): Promise<T> {
    const id = randomUUID();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DomainError('unavailable', `node ${node} did not answer "${op}" within ${timeoutMs} ms`, 2));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const msg: Request = { id, from: this.nodeId, op, args };
      this.pub.publish(channelOf(node), JSON.stringify(msg)).then(
        (receivers) => {
          if (receivers === 0) this.settle({ re: id, ok: false, error: { code: 'unavailable', message: `node ${node} is not listening` } });
        },
        (e: Error) => this.settle({ re: id, ok: false, error: { code: 'unavailable', message: `could not reach node ${node}: ${e.message}` } }),
      );
    });
  }

  private settle(reply: Reply): void {
    const p = this.pending.get(reply.re);
    if (!p) return;
    this.pending.delete(reply.re);
    clearTimeout(p.timer);
    if (reply.ok) p.resolve(reply.value);
    else p.reject(fromReplyError(reply.error ?? { code: 'internal_error', message: 'no error given' }));
  }

  private onMessage(message: string): void {
    let m: Request | Reply;
    try {
      m = JSON.parse(message) as Request | Reply;
    } catch {
      return;
    }
    if ('re' in m) return this.settle(m);
    const req = m;
    const reply = (r: Omit<Reply, 're'>) =>
      this.pub.publish(channelOf(req.from), JSON.stringify({ re: req.id, ...r })).catch((e: Error) => this.onError(`could not reply to node ${req.from}: ${e.message}`));
    this.handler(req.op, req.args).then(
      (value) => void reply({ ok: true, value: value ?? null }),
      (e: unknown) => void reply({ ok: false, error: toReplyError(e) }),
    );
  }

  close(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new DomainError('unavailable', 'this node is shutting down'));
    }
    this.pending.clear();
  }
}
