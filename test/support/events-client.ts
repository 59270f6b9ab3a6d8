import { WebSocket } from 'ws';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type AnyEvent = Record<string, any>;

export interface EventsClient {
  /** Every frame received so far, parsed. */
  all(): AnyEvent[];
  /** The first frame (already received or later) matching `pred` that no earlier `next` call returned. */
  next(pred: (e: AnyEvent) => boolean, timeoutMs?: number): Promise<AnyEvent>;
  sendRaw(data: string): void;
  isOpen(): boolean;
  /** Resolves to the close code. */
  closed: Promise<number>;
  close(): void;
}

/** A WebSocket client of the events gateway that records every frame, for assertions. */
export function openEvents(httpUrl: string): Promise<EventsClient> {
  const ws = new WebSocket(httpUrl.replace(/^http/, 'ws'));
  const frames: AnyEvent[] = [];
  const taken = new Set<AnyEvent>();
  const waiters = new Set<() => void>();
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)));
    for (const w of [...waiters]) w();
  });
  ws.on('error', () => undefined);
  const client: EventsClient = {
    all: () => frames,
    next(pred, timeoutMs = 10_000) {
      return new Promise<AnyEvent>((resolve, reject) => {
        const check = () => {
          const hit = frames.find((f) => !taken.has(f) && pred(f));
          if (!hit) return false;
          taken.add(hit);
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event within ${timeoutMs} ms; got: ${frames.map((f) => f.type).join(', ') || 'nothing'}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    sendRaw: (data) => ws.send(data),
    isOpen: () => ws.readyState === WebSocket.OPEN,
    closed,
    close: () => ws.close(),
  };
  return new Promise((resolve) => {
    ws.once('open', () => resolve(client));
    ws.once('close', () => resolve(client)); // refused connections are asserted on through `closed`
    ws.once('unexpected-response', () => resolve(client));
  });
}
