/** Queue names and job payloads shared by the server (producer) and the workers (consumers). */
export const QUEUE_RECORDINGS = 'mcu-recordings';
export const QUEUE_WEBHOOKS = 'mcu-webhooks';
export const QUEUE_LIVESTREAMS = 'mcu-livestreams';

export interface RecordingJobData {
  recordingId: string;
}

export interface LivestreamJobData {
  livestreamId: string;
}

export interface WebhookJobData {
  recordingId: string;
  seq: number;
  event: Record<string, unknown>;
}

export const KEY_PREFIX = 'mcu';
