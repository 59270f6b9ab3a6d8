import { ConfigError, loadConfig } from '@app/config';

/**
 * The worker process runs BullMQ processors (recording, livestream, webhook delivery) on any host that reaches Redis and
 * the server. No queue exists yet: recordings arrive with the recording issue. Until then this entry point only
 * validates the shared configuration, so deployments can already wire it up, and says plainly that it has nothing to do.
 */
function main(): void {
  try {
    loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
  console.log('[worker] configuration is valid; no job queues are defined in this version (recording and livestream jobs come later). Exiting.');
}

main();
