import type { TokenKeys } from '@app/core';
import type { AppConfig } from '@app/config';

/**
 * The keys room tokens are verified with: TOKEN_SECRET, TOKEN_SECRET_PREVIOUS, WORKER_SECRET for hidden subscribers,
 * and — while TOKEN_SECRET is not set — MCU_API_SECRET for tokens without `kid` (how apps signed them before).
 */
export function roomTokenKeys(config: AppConfig): TokenKeys {
  return {
    current: config.tokenSecret,
    ...(config.tokenSecretPrevious ? { previous: config.tokenSecretPrevious } : {}),
    worker: config.workerSecret,
    ...(config.derivedSecrets.includes('TOKEN_SECRET') ? { legacy: config.apiSecret } : {}),
  };
}
