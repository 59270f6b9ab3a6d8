import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { WebSocketServer } from 'ws';

/** Hard cap of the ws library (it closes with 1009 beyond it); the gateway answers frames over 4 KiB with an error. */
const MAX_WS_PAYLOAD = 64 * 1024;

/** `/v1/rooms/:name/events` → a RegExp with one capture per `:param`. */
export function pathPattern(path: string): RegExp {
  const body = path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '([^/]+)' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}/?$`);
}

/**
 * Nest's ws adapter matches gateway paths exactly; ours are per room (`/v1/rooms/:name/events`), so this one matches
 * patterns on the app's own HTTP server. Frames are read by the gateway itself (`bindMessageHandlers` is unused), so it
 * can answer every bad frame with an error frame.
 */
export class EventsWsAdapter extends WsAdapter {
  private readonly routes: Array<{ pattern: RegExp; wss: WebSocketServer }> = [];
  private listening = false;

  constructor(app: INestApplicationContext) {
    super(app);
  }

  override create(port: number, options: Record<string, unknown> & { path?: string } = {}): WebSocketServer {
    if (port !== 0 || !options.path) return super.create(port, options) as WebSocketServer;
    const { path, server: _s, namespace: _n, ...rest } = options;
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD, ...rest });
    this.routes.push({ pattern: pathPattern(path), wss });
    this.listen();
    return wss;
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      let pathname = '';
      try {
        pathname = new URL(req.url ?? '/', 'http://x').pathname;
      } catch {
        /* unparsable: no route */
      }
      const route = this.routes.find((r) => r.pattern.test(pathname));
      if (!route) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":{"code":"not_found","message":"no WebSocket endpoint here"}}');
        return;
      }
      route.wss.handleUpgrade(req, socket, head, (ws) => route.wss.emit('connection', ws, req));
    });
  }

  override bindMessageHandlers(): void {
    // the gateway reads frames itself
  }
}
