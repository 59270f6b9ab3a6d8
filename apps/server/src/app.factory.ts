import { type INestApplication, type LogLevel } from '@nestjs/common';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from '@app/config';
import { type FfmpegInfo, RoomManager } from '@app/media';
import { AppModule } from './app.module';
import { installQueueBoard } from './admin/queue-board';
import { installOpenApi } from './docs/openapi';
import { EventsWsAdapter } from './events/events-ws.adapter';
import { installBodyParsing } from './http/body-parsing';
import { corsOpenPath } from './http/cross-origin';
import { DomainErrorFilter } from './http/domain-error.filter';

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/** Builds the configured Nest application (not yet listening). Used by main.ts and by the end-to-end tests. */
export async function createApp(config: AppConfig, ffmpeg: FfmpegInfo): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.register(config, ffmpeg), {
    bodyParser: false,
    logger: LEVELS.slice(0, LEVELS.indexOf(config.logLevel) + 1),
    bufferLogs: true,
  });
  // structured logs (JSON lines; pretty in development): Nest's Logger everywhere now writes through pino
  app.useLogger(app.get(PinoNestLogger));
  installBodyParsing(app);
  app.useWebSocketAdapter(new EventsWsAdapter(app));
  app.useGlobalFilters(new DomainErrorFilter());
  installOpenApi(app);
  installQueueBoard(app);
  // SIGTERM/SIGINT: ShutdownService drains first, then the hooks run; exit(0) when done (main.ts bounds the time)
  app.enableShutdownHooks([], { useProcessExit: true });
  // CORS (any origin) for the routes a browser calls with a bearer room token only; admin routes (Basic) get none
  app.enableCors((req: { url?: string }, cb: (e: Error | null, o: { origin: boolean | string; exposedHeaders?: string[] }) => void) =>
    cb(null, corsOpenPath(req.url ?? '') ? { origin: '*', exposedHeaders: ['Location', 'Link'] } : { origin: false }),
  );
  await app.get(RoomManager).ready(); // the room worker threads have loaded their code: the first room does not wait
  return app;
}
