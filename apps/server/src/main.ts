import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, isLoopbackHost, loadConfig } from '@app/config';
import { logUnhandledRejections } from '@app/core';
import { FfmpegNotUsableError, locateFfmpeg, useSpawner } from '@app/media';
import { createApp } from './app.factory';

async function main(): Promise<void> {
  const logger = new Logger('Main');
  // a failed cleanup nobody awaited (a file that cannot be removed on a full disk) is logged, not the end of every room
  logUnhandledRejections((m) => logger.error(m));
  let config;
  let ffmpeg;
  try {
    config = loadConfig();
    ffmpeg = locateFfmpeg(config.ffmpegPath, config.ffprobePath);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof FfmpegNotUsableError) {
      console.error(`\n${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  // the main thread's own ffmpeg children (HLS) are forked by a small helper process, as the room threads' are
  useSpawner({ warn: (m) => logger.warn(m) });
  const app = await createApp(config, ffmpeg);
  // Graceful shutdown runs in the app's hooks (ShutdownService, then workers and rooms); this bounds it.
  const bound = config.shutdownTimeoutMs;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal}: shutting down (at most ${bound / 1000} s)`);
      setTimeout(() => {
        logger.error(`shutdown did not finish within ${bound / 1000} s (SHUTDOWN_TIMEOUT_SECONDS); exiting anyway`);
        process.exit(1);
      }, bound).unref();
    });
  }
  await app.listen(config.port, config.host);
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host}:${config.port}`;
  logger.log(`ffmpeg ${ffmpeg.version} (${ffmpeg.source}: ${ffmpeg.path}), ffprobe (${ffmpeg.ffprobe.source}: ${ffmpeg.ffprobe.path})`);
  logger.log(`MCU listening on ${url}  (API under ${url}/v1, health ${url}/healthz)`);
  if (config.devCredentials) {
    logger.warn(
      `MCU_API_KEY/MCU_API_SECRET are not set: using DEV credentials key="${config.apiKey}" secret="${config.apiSecret}" ` +
        (isLoopbackHost(config.host)
          ? '(only this machine can reach this server). Set both before exposing it.'
          : `ON HOST=${config.host} (MCU_DEV=1): anyone who reaches this address is admin and can mint tokens at /v1/dev/tokens.`),
    );
    logger.log(`try: curl -u ${config.apiKey}:${config.apiSecret} -X POST ${url}/v1/rooms/demo/tokens -H 'Content-Type: application/json' -d '{"identity":"alice"}'`);
  }
  if (!config.devCredentials && config.derivedSecrets.length) {
    logger.warn(`${config.derivedSecrets.join(', ')} not set: derived from MCU_API_SECRET, one key per purpose. Set them in production (each rotates on its own; see README "Secrets and keys")`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
