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

export const KEY_PREFIX = 'mcu';
