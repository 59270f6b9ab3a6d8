/** Queue names and job payloads shared by the server (producer) and the workers (consumers). */
import type { VideoCodec } from '@app/core';

export const QUEUE_RECORDINGS = 'mcu-recordings';
export const QUEUE_WEBHOOKS = 'mcu-webhooks';
export const QUEUE_LIVESTREAMS = 'mcu-livestreams';

export interface RecordingJobData {
  recordingId: string;
  /**
   * The room's video codec when the recording was created (it never changes): whether the video is copied or
   * transcoded is decided from it. Absent in jobs queued by an older server: then the mix's codec is used.
   */
  videoCodec?: VideoCodec;
}

export interface LivestreamJobData {
  livestreamId: string;
  /** As RecordingJobData.videoCodec. */
  videoCodec?: VideoCodec;
}

export interface WebhookJobData {
  recordingId: string;
  seq: number;
  event: Record<string, unknown>;
}

/**
 * Every Redis key and channel of this project starts with KEY_PREFIX, and BullMQ's keys with BULL_PREFIX. Both come
 * from REDIS_KEY_PREFIX (checked by libs/config: letters, digits, `_.-`, at most 32), so several deployments, or test
 * runs with REDIS_URL set, share one Redis without seeing each other's rooms, recordings and jobs. Unset: 'mcu' and
 * BullMQ's own 'bull', as before, so an upgraded deployment keeps its data and queued jobs.
 */
const customPrefix = process.env.REDIS_KEY_PREFIX || undefined;
export const KEY_PREFIX = customPrefix ?? 'mcu';
export const BULL_PREFIX = customPrefix ? `${customPrefix}:bull` : 'bull';
