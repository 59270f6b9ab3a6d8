import { ConfigError, loadConfig } from '@app/config';
import { FfmpegNotUsableError, locateFfmpeg } from '@app/media';
import { pino } from 'pino';
import { pinoOptions, prettyStream } from '../../server/src/logging/pino-options';
import { startWorkers } from './worker-runtime';

/**
 * A worker process: BullMQ processors for recordings and webhook deliveries, on any host that reaches Redis
 * (REDIS_URL) and the server (MCU_SERVER_URL). The server runs the same workers in-process when REDIS_URL is unset.
 */

async function main(): Promise<void> {
  let config;
  let ffmpeg;
  try {
    config = loadConfig();
    if (!config.redisUrl) throw new ConfigError(['REDIS_URL is required for a separate worker (the server runs an embedded worker when it is unset)']);
    ffmpeg = locateFfmpeg(config.ffmpegPath);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof FfmpegNotUsableError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
  // structured logs like the server's (JSON lines with room/recording/job ids; pretty in development)
  const stream = prettyStream(config);
  const log = stream ? pino(pinoOptions(config, 'mcu-worker'), stream) : pino(pinoOptions(config, 'mcu-worker'));
  const logger = { log: (m: string) => log.info(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m), debug: (m: string) => log.debug(m) };
  const serverUrl = config.serverUrl ?? `http://127.0.0.1:${config.port}`;
  const runtime = startWorkers({ config, redisUrl: config.redisUrl, ffmpegPath: ffmpeg.path, serverUrl: () => serverUrl, logger });
  logger.log(`started; server ${serverUrl}, recordings in ${config.recordingsDir}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: finishing current jobs`);
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
