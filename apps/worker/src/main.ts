import { ConfigError, loadConfig, pinoOptions, prettyStream } from '@app/config';
import { logUnhandledRejections } from '@app/core';
import { startWorkers } from '@app/jobs';
import { FfmpegNotUsableError, locateFfmpeg, objectLogger } from '@app/media';
import { pino } from 'pino';

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
    ffmpeg = locateFfmpeg(config.ffmpegPath, config.ffprobePath);
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
  const logger = objectLogger({
    log: (m) => log.info(m),
    warn: (m) => log.warn(m),
    error: (m) => log.error(m),
    debug: (m) => log.debug(m),
  });
  logUnhandledRejections((m) => logger.error?.(m) ?? logger.warn(m));
  const serverUrl = config.serverUrl ?? `http://127.0.0.1:${config.port}`;
  const runtime = startWorkers({ config, redisUrl: config.redisUrl, ffmpegPath: ffmpeg.path, ffprobePath: ffmpeg.ffprobe.path, serverUrl: () => serverUrl, logger });
  if (!config.devCredentials && config.derivedSecrets.length) logger.warn(`${config.derivedSecrets.join(', ')} not set: derived from MCU_API_SECRET (set the same values as on the server in production)`);
  logger.log(`started; server ${serverUrl}, recordings in ${config.recordingsDir}, ffmpeg ${ffmpeg.path}, ffprobe ${ffmpeg.ffprobe.path} (${ffmpeg.ffprobe.source})`);
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
