import { LAYOUTS, type LayoutName } from './composite-layout';
import { ValidationError } from './errors';
import { type Fit, FITS } from './layout';
import { type RenditionSpec, validateRenditions } from './renditions';

/** Pure validators for request bodies. Each returns a normalized value with defaults or throws ValidationError. */

export const ROOM_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const IDENTITY_RE = /^[A-Za-z0-9_.@:+-]{1,128}$/;
export const VIDEO_CODECS = ['h264', 'vp8'] as const;
export type VideoCodec = (typeof VIDEO_CODECS)[number];

export interface RoomOptions {
  layout: LayoutName;
  /** The identity whose camera (or screen share, in `presentation`) takes the large tile, instead of the active speaker. */
  pinnedIdentity?: string;
  /** Draw each participant's display name under their tile. */
  displayNames: boolean;
  /** How camera tiles are filled: `cover` (crop the overflow, no bands) or `contain` (the whole picture, with bands). Screen shares always contain. */
  fit: Fit;
  width: number;
  height: number;
  fps: number;
  videoBitrateKbps: number;
  videoCodec: VideoCodec;
  audioBitrateKbps: number;
  /**
   * The rungs below `high` of the rendition ladder (see renditions.ts); `[]` means none. Absent: the default ladder
   * (`defaultRenditions`). Set only when the room is created.
   */
  renditions?: RenditionSpec[];
}

export const DEFAULT_ROOM_OPTIONS: RoomOptions = {
  layout: 'grid',
  displayNames: true,
  fit: 'cover',
  width: 1280,
  height: 720,
  fps: 30,
  videoBitrateKbps: 1500,
  videoCodec: 'h264',
  audioBitrateKbps: 48,
};

export interface TokenRequest {
  identity: string;
  displayName?: string;
  canPublish: boolean;
  canSubscribe: boolean;
  ttlSeconds: number;
  /** The meeting's host: may also call this room's admin actions (see TokenGrants.roomAdmin). */
  roomAdmin?: true;
  /** An invitation many people may open, exchanged at `POST /v1/rooms/{name}/join` (see TokenGrants.invite). */
  invite?: true;
}

type Body = Record<string, unknown>;

function asObject(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('request body must be a JSON object', 'bad_request');
  }
  return body as Body;
}

function rejectUnknown(body: Body, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length) throw new ValidationError(`unknown field(s): ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`);
}

function int(body: Body, key: string, def: number, min: number, max: number, opts: { even?: boolean } = {}): number {
  const v = body[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ValidationError(`${key} must be an integer from ${min} to ${max}`);
  }
  if (opts.even && v % 2 !== 0) throw new ValidationError(`${key} must be even`);
  return v;
}

function bool(body: Body, key: string, def: boolean): boolean {
  const v = body[key];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw new ValidationError(`${key} must be true or false`);
  return v;
}

function oneOf<T extends string>(body: Body, key: string, values: readonly T[], def: T): T {
  const v = body[key];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !values.includes(v as T)) {
    throw new ValidationError(`${key} must be one of: ${values.join(', ')}`);
  }
  return v as T;
}

export function validateRoomName(name: unknown): string {
  if (typeof name !== 'string' || !ROOM_NAME_RE.test(name)) {
    throw new ValidationError(
      'room name must be 1-64 characters of letters, digits, "_", "-" or ".", starting with a letter or digit',
    );
  }
  return name;
}

export function validateIdentity(identity: unknown): string {
  if (typeof identity !== 'string' || !IDENTITY_RE.test(identity)) {
    throw new ValidationError('identity must be 1-128 characters of letters, digits or _ . @ : + -');
  }
  return identity;
}

export function validateCreateRoom(raw: unknown): { name: string; options: RoomOptions } {
  const body = asObject(raw);
  rejectUnknown(body, ['name', 'layout', 'pinnedIdentity', 'displayNames', 'fit', 'width', 'height', 'fps', 'videoBitrateKbps', 'videoCodec', 'audioBitrateKbps', 'renditions']);
  const name = validateRoomName(body.name);
  return { name, options: validateRoomOptions(body) };
}

export function validateRoomOptions(body: Body): RoomOptions {
  const d = DEFAULT_ROOM_OPTIONS;
  const pinned = optionalIdentity(body, 'pinnedIdentity');
  const options: RoomOptions = {
    layout: oneOf(body, 'layout', LAYOUTS, d.layout),
    ...(pinned ? { pinnedIdentity: pinned } : {}),
    displayNames: bool(body, 'displayNames', d.displayNames),
    fit: oneOf(body, 'fit', FITS, d.fit),
    width: int(body, 'width', d.width, 160, 3840, { even: true }),
    height: int(body, 'height', d.height, 120, 2160, { even: true }),
    fps: int(body, 'fps', d.fps, 5, 60),
    videoBitrateKbps: int(body, 'videoBitrateKbps', d.videoBitrateKbps, 100, 20000),
    videoCodec: oneOf(body, 'videoCodec', VIDEO_CODECS, d.videoCodec),
    audioBitrateKbps: int(body, 'audioBitrateKbps', d.audioBitrateKbps, 16, 256),
  };
  // against the room's final size, fps and bitrate, so those are validated (and defaulted) first
  if (body.renditions !== undefined) options.renditions = validateRenditions(body.renditions, options);
  return options;
}

function optionalIdentity(body: Body, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !IDENTITY_RE.test(v)) throw new ValidationError(`${key} must be an identity (1-128 characters of letters, digits or _ . @ : + -) or null`);
  return v;
}

/** What can change in a running room: `PATCH /v1/rooms/{name}`. `pinnedIdentity: null` unpins. */
export interface RoomUpdate {
  layout?: LayoutName;
  pinnedIdentity?: string | null;
  displayNames?: boolean;
  fit?: Fit;
}

export function validateRoomUpdate(raw: unknown): RoomUpdate {
  const body = asObject(raw);
  if (body.renditions !== undefined) throw new ValidationError('renditions can only be set when the room is created (POST /v1/rooms); they cannot be changed on a running room');
  rejectUnknown(body, ['layout', 'pinnedIdentity', 'displayNames', 'fit']);
  if (Object.keys(body).length === 0) throw new ValidationError('nothing to change: give layout, pinnedIdentity, displayNames and/or fit');
  const update: RoomUpdate = {};
  if (body.layout !== undefined) update.layout = oneOf(body, 'layout', LAYOUTS, 'grid');
  if (body.pinnedIdentity !== undefined) update.pinnedIdentity = optionalIdentity(body, 'pinnedIdentity') ?? null;
  if (body.displayNames !== undefined) update.displayNames = bool(body, 'displayNames', true);
  if (body.fit !== undefined) update.fit = oneOf(body, 'fit', FITS, 'cover');
  return update;
}

function displayNameOf(v: unknown): string {
  if (typeof v !== 'string' || v.length > 128 || /[\u0000-\u001f\u007f]/.test(v)) {
    throw new ValidationError('displayName must be a string of at most 128 printable characters');
  }
  return v;
}

export function validateTokenRequest(raw: unknown): TokenRequest {
  const body = asObject(raw);
  rejectUnknown(body, ['identity', 'displayName', 'canPublish', 'canSubscribe', 'ttlSeconds', 'roomAdmin', 'invite']);
  const identity = validateIdentity(body.identity);
  const displayName = body.displayName !== undefined ? displayNameOf(body.displayName) : undefined;
  const roomAdmin = bool(body, 'roomAdmin', false);
  const invite = bool(body, 'invite', false);
  if (roomAdmin && invite) throw new ValidationError('an invitation cannot be a room admin token (roomAdmin and invite are exclusive)');
  return {
    identity,
    ...(displayName !== undefined ? { displayName } : {}),
    canPublish: bool(body, 'canPublish', true),
    canSubscribe: bool(body, 'canSubscribe', true),
    ttlSeconds: int(body, 'ttlSeconds', 3600, 10, 7 * 24 * 3600),
    ...(roomAdmin ? { roomAdmin: true as const } : {}),
    ...(invite ? { invite: true as const } : {}),
  };
}

/** `POST /v1/rooms/{name}/join`: the name the person gives (1-64 printable characters, not only spaces). */
export function validateJoinRequest(raw: unknown): { displayName: string } {
  const body = asObject(raw ?? {});
  rejectUnknown(body, ['displayName']);
  const displayName = typeof body.displayName === 'string' ? body.displayName.trim() : body.displayName;
  if (typeof displayName !== 'string' || !displayName || displayName.length > 64 || /[\u0000-\u001f\u007f]/.test(displayName)) {
    throw new ValidationError('displayName must be 1-64 printable characters');
  }
  return { displayName };
}

/**
 * The identity of someone joining through an invitation: their name made safe (lower case, runs of other characters
 * as "-", at most 40) and a random suffix, so that two people called Alex are two participants.
 */
export function identityForName(displayName: string, suffix: string): string {
  const base = displayName.normalize('NFKD').toLowerCase().replace(/[^a-z0-9_.@:+-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'guest';
  return validateIdentity(`${base}-${suffix}`);
}
