import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactUrl } from '@app/core';
import type { AppConfig } from './config';
import { type DestinationStream, type LoggerOptions, stdTimeFunctions } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';

/** LOG_LEVEL keeps Nest's names; pino's are these. */
export const PINO_LEVEL: Record<AppConfig['logLevel'], string> = { error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };

/**
 * JSON lines with `time`, `level`, `context` (the Nest logger name), `msg`, and the ids the line is about as fields
 * (`room`, `participant`, `identity`, `recording`, `livestream`, `job`: handed down by the code that logs, see
 * libs/media/src/logger.ts, never parsed out of the message), so logs can be filtered by room or recording.
 */
export function pinoOptions(config: Pick<AppConfig, 'logLevel'>, service: string): LoggerOptions {
  return {
    level: PINO_LEVEL[config.logLevel],
    base: { service, pid: process.pid },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
  };
}

/** pino-pretty as a synchronous stream when LOG_FORMAT=pretty (the development default) and it is installed. */
export function prettyStream(config: Pick<AppConfig, 'prettyLogs'>): DestinationStream | undefined {
  if (!config.prettyLogs) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as (o: Record<string, unknown>) => DestinationStream;
    return pretty({ sync: true, colorize: process.stdout.isTTY ?? false, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,context', messageFormat: '{if context}[{context}] {end}{msg}', singleLine: true });
  } catch {
    return undefined; // a production image has no dev dependencies: JSON lines
  }
}

const QUIET = /^\/(healthz|readyz|metrics)(\?|$)/;
/** The room a request is about: its path is the API (`/v1/rooms/{name}/…`). */
const ROOM_PATH = /^\/v1\/rooms\/([^/?#]+)/;

export function roomOfUrl(url: string | undefined): string | undefined {
  const m = ROOM_PATH.exec(url ?? '');
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}

/** HTTP request logs: one line per request (not health checks or scrapes) with method, url, status, time and ids. */
export function pinoHttpOptions(config: Pick<AppConfig, 'logLevel'>): PinoHttpOptions {
  return {
    ...pinoOptions(config, 'mcu-server'),
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    autoLogging: { ignore: (req: IncomingMessage) => QUIET.test(req.url ?? '') },
    customProps: (req: IncomingMessage) => {
      const room = roomOfUrl(req.url);
      return room ? { room } : {};
    },
    // 4xx are the clients' mistakes (the error filter says which at `log`): info; 503 is load shed on purpose (no
    // capacity, shutting down, not ready yet: the reason is logged where it was decided): warn; other 5xx are ours
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) => (res.statusCode === 503 ? 'warn' : err || res.statusCode >= 500 ? 'error' : 'info'),
    // lines logged while handling a request carry its reqId, not the whole request
    quietReqLogger: true,
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
}
