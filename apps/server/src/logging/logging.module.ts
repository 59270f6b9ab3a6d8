import type { DynamicModule } from '@nestjs/common';
import { type AppConfig, pinoHttpOptions, prettyStream } from '@app/config';
import { LoggerModule } from 'nestjs-pino';

/** nestjs-pino: Nest's Logger (every `new Logger('Rooms')`) and HTTP request logs go through one pino logger. */
export function loggingModule(config: AppConfig): DynamicModule {
  const stream = prettyStream(config);
  const options = pinoHttpOptions(config);
  return LoggerModule.forRoot({ pinoHttp: stream ? [options, stream] : options });
}
