import type { LayoutName, SourceKind } from './composite-layout';
import type { Fit } from './layout';

/** What a track is: a camera or screen share's video, a microphone (or a screen share's) audio. */
export type TrackSource = 'camera' | 'microphone' | 'screen' | 'screen_audio';

export interface TileView {
  identity: string;
  kind: SourceKind;
  x: number;
  y: number;
  w: number;
  h: number;
  /** How the source fills the tile: `cover` (cropped to it, centred) or `contain` (whole, with bands). */
  fit?: Fit;
  main?: boolean;
}

/**
 * The events a room's WebSocket clients receive (and, later, other nodes through Redis). The server adds `room`,
 * `seq` (room-scoped, strictly increasing) and `timestamp` when it publishes one.
 */
export type RoomEventBody =
  | { type: 'participantJoined'; participant: { identity: string; displayName?: string } }
  | { type: 'participantLeft'; participant: { identity: string }; reason: string }
  | { type: 'trackPublished'; participant: { identity: string }; track: { kind: 'audio' | 'video'; source: TrackSource; codec?: string } }
  | { type: 'trackUnpublished'; participant: { identity: string }; track: { kind: 'audio' | 'video'; source: TrackSource }; reason: string }
  | { type: 'activeSpeakerChanged'; identity: string | null }
  /** `tiles` are rectangles of the mix in pixels of its canvas, `width` x `height` (the room's size, high's). */
  | { type: 'layoutChanged'; layout: LayoutName; pinnedIdentity: string | null; width: number; height: number; tiles: TileView[] }
  /** A publisher said it muted or unmuted its microphone or camera (through the events socket: `{"type":"mute"}`). */
  | { type: 'trackMuted' | 'trackUnmuted'; participant: { identity: string }; track: { kind: 'audio' | 'video'; source: 'microphone' | 'camera' } }
  | { type: 'recordingStatusChanged'; recording: Record<string, unknown> }
  | { type: 'livestreamStatusChanged'; livestream: Record<string, unknown> }
  /** A subscriber moved to another rendition of the mix (`rendition: null`: its video is paused, audio only). */
  | {
      type: 'subscriberQualityChanged';
      participant: { identity: string };
      subscriberId: string;
      rendition: string | null;
      previous: string | null;
      estimateKbps: number;
      reason: string;
    };

export type RoomEventType = RoomEventBody['type'];

export type RoomEvent = RoomEventBody & { room: string; seq: number; timestamp: string };

export const ROOM_EVENT_TYPES: readonly RoomEventType[] = [
  'participantJoined',
  'participantLeft',
  'trackPublished',
  'trackUnpublished',
  'activeSpeakerChanged',
  'layoutChanged',
  'trackMuted',
  'trackUnmuted',
  'recordingStatusChanged',
  'livestreamStatusChanged',
  'subscriberQualityChanged',
];
