import { signRoomToken } from '@app/core';
import { type MixSource, WhepClient } from '@app/media';
import { connectInTurn } from './mix-candidates';

export interface MixSourceDeps {
  /** WORKER_SECRET (config.workerSecret): the only key whose room tokens may be hidden. */
  apiSecret: string;
  /** The server's base URL, resolved when the job runs (the embedded server learns its port late). */
  serverUrl: () => string;
  /**
   * Other nodes' public base URLs (alive nodes from the node registry), tried in turn when `serverUrl()` cannot be
   * reached or answers 5xx; read only then.
   */
  serverUrls?: () => Promise<string[]>;
  /** In the server's own process: the room's mix without the WebRTC hop (undefined when the room is not here). */
  localTap?: (room: string, video: boolean) => Promise<MixSource | undefined>;
}

/**
 * The room's encoded mix for an output job (recording, livestream): tapped in-process when the room lives in this
 * process, otherwise subscribed over WHEP as a hidden participant `identity`: from the configured server (which
 * redirects to the node hosting the room), or another alive node when that one is down (see connectInTurn).
 */
export async function connectMix(deps: MixSourceDeps, room: string, identity: string, video: boolean): Promise<MixSource> {
  const local = await deps.localTap?.(room, video).catch(() => undefined);
  if (local) return local;
  const token = signRoomToken({ room, identity, canPublish: false, canSubscribe: true, hidden: true }, deps.apiSecret, { ttlSeconds: 24 * 3600 }).token;
  const path = `/v1/rooms/${encodeURIComponent(room)}/whep`;
  return connectInTurn(deps.serverUrl(), deps.serverUrls ?? (async () => []), (base) => WhepClient.connect({ url: `${base}${path}`, token, video, audio: true }));
}

/**
 * The mix sends audio every 20 ms and video at the room's frame rate, so this much silence means its stream is gone (a
 * remote WHEP peer whose room's node or media worker died hears nothing, and ICE consent only expires after 30 s).
 */
export const MIX_SILENCE_LOST_MS = 5000;

/**
 * After the room's mix ended: a deleted room ends its stream first and its stop request lands just after (at once from
 * the server holding the room, within a sweep from another), so wait up to `graceMs` for it. Returns its reason, or
 * undefined when none came (the mix was lost).
 */
export async function waitForStopRequest(read: () => Promise<{ stopRequested?: string }>, graceMs = 4000): Promise<string | undefined> {
  const until = Date.now() + graceMs;
  for (;;) {
    const { stopRequested } = await read();
    if (stopRequested || Date.now() >= until) return stopRequested;
    await new Promise((r) => setTimeout(r, 200));
  }
}
