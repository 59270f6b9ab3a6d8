/**
 * What the generated document cannot know about each route (the controllers take `unknown` bodies and validate them
 * in libs/core): summary, auth, request body, responses and errors. Keyed "<method> <OpenAPI path>". A route without
 * an entry here still appears in /docs (Nest's scan), but the coverage test asks for one.
 */
export interface RouteDoc {
  summary: string;
  tag: string;
  auth?: 'admin' | 'room-token' | 'admin-or-room-token' | 'admin-or-room-admin' | 'metrics';
  /** A schema name, or 'sdp' for application/sdp. */
  body?: string;
  ok: { status: number; description: string; schema?: string; type?: 'sdp' | 'file' | 'html' | 'text' | 'prometheus'; headers?: Record<string, string> };
  /** Error statuses this route answers with the Error shape (besides 500). */
  errors?: number[];
  query?: Array<{ name: string; description: string; schema?: Record<string, unknown> }>;
}

const whipLike = (kind: 'whip' | 'whep'): Record<string, RouteDoc> => {
  const what = kind === 'whip' ? 'Publish (WHIP, RFC 9725): one Opus audio and one VP8/H.264 video track' : 'Subscribe (WHEP): one composite video and one mixed audio track (mix-minus for publishers)';
  return {
    [`post /v1/rooms/{name}/${kind}`]: {
      summary: what,
      tag: 'WebRTC',
      auth: 'room-token',
      body: 'sdp',
      ok: {
        status: 201,
        description: 'the SDP answer (ICE gathering complete)',
        type: 'sdp',
        headers: {
          Location: `/v1/rooms/{name}/${kind}/{id}: the session, for DELETE`,
          Link: '<stun:…>/<turn:…>; rel="ice-server"[; username=…; credential=…; credential-type="password"], one per STUN/TURN URL (TURN REST credentials with TURN_SECRET)',
        },
      },
      errors: [400, 401, 403, 404, 409, 413, 415, 503],
      // a room hosted by another node: 307 there (same path and query), see README "Many nodes on one Redis"
      ...(kind === 'whip'
        ? { query: [{ name: 'source', description: 'camera (default) or screen: a screen share beside the camera, shown large by the presentation layout', schema: { type: 'string', enum: ['camera', 'screen'] } }] }
        : {}),
    },
    [`delete /v1/rooms/{name}/${kind}/{id}`]: {
      summary: `End a ${kind.toUpperCase()} session`,
      tag: 'WebRTC',
      auth: 'admin-or-room-token',
      ok: { status: 200, description: 'the session ended', schema: 'Ok' },
      errors: [401, 403, 404],
    },
    [`patch /v1/rooms/{name}/${kind}/{id}`]: {
      summary: 'Trickle ICE / ICE restart: not supported (any method other than DELETE answers 405)',
      tag: 'WebRTC',
      ok: { status: 405, description: 'never succeeds', schema: 'Error' },
      errors: [405],
    },
  };
};

export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'get /healthz': { summary: 'Liveness', tag: 'Operations', ok: { status: 200, description: 'the process runs', schema: 'Health' } },
  'get /readyz': {
    summary: 'Readiness: ffmpeg, Redis, the recording queue; 503 while shutting down; the node’s capacity (admission control)',
    tag: 'Operations',
    ok: { status: 200, description: 'ready (503 with the same shape when not)', schema: 'Readiness' },
    errors: [503],
  },
  'get /metrics': {
    summary: 'Prometheus metrics (rooms, media, recordings, queues, process)',
    tag: 'Operations',
    auth: 'metrics',
    ok: { status: 200, description: 'Prometheus text format 0.0.4', type: 'prometheus' },
    errors: [401],
  },
  'post /v1/rooms': { summary: 'Create a room', tag: 'Rooms', auth: 'admin', body: 'CreateRoom', ok: { status: 201, description: 'the room', schema: 'Room' }, errors: [400, 401, 409, 413, 415, 503] },
  'get /v1/rooms': { summary: 'List rooms', tag: 'Rooms', auth: 'admin', ok: { status: 200, description: 'the rooms of the whole cluster, each with its node', schema: 'RoomList' }, errors: [401] },
  'get /v1/nodes': { summary: 'The live nodes of the cluster (the registry in Redis)', tag: 'Operations', auth: 'admin', ok: { status: 200, description: 'the nodes', schema: 'NodeList' }, errors: [401] },
  'get /v1/rooms/{name}': { summary: 'A room with its participants and mixer state', tag: 'Rooms', auth: 'admin-or-room-admin', ok: { status: 200, description: 'the room', schema: 'Room' }, errors: [401, 403, 404] },
  'patch /v1/rooms/{name}': {
    summary: 'Change the layout, pinned identity or name labels of a running room (the composite follows within a frame or two)',
    tag: 'Rooms',
    auth: 'admin-or-room-admin',
    body: 'RoomUpdate',
    ok: { status: 200, description: 'the room', schema: 'Room' },
    errors: [400, 401, 403, 404, 413, 415],
  },
  'delete /v1/rooms/{name}': { summary: 'Delete a room (disconnects everyone, stops its recordings)', tag: 'Rooms', auth: 'admin', ok: { status: 204, description: 'deleted' }, errors: [401, 404] },
  'post /v1/rooms/{name}/tokens': {
    summary: 'Issue a room token (creates the room with defaults if needed); a room admin token may issue tokens and invitations of its room (not roomAdmin ones, and none outliving its own)',
    tag: 'Rooms',
    auth: 'admin-or-room-admin',
    body: 'TokenRequest',
    ok: { status: 201, description: 'the token and the ICE servers to use', schema: 'TokenResponse' },
    errors: [400, 401, 403, 404, 503],
  },
  'post /v1/rooms/{name}/join': {
    summary: 'Exchange an invitation (a token with the invite grant, ?token= or Bearer) for a token of your own: an identity made from your name, the grants the invitation hands on, valid as long as it is',
    tag: 'Rooms',
    auth: 'room-token',
    body: 'JoinRequest',
    ok: { status: 201, description: 'your token and the ICE servers to use', schema: 'TokenResponse' },
    errors: [400, 401, 403, 404, 503],
  },
  ...whipLike('whip'),
  ...whipLike('whep'),
  'post /v1/rooms/{name}/recordings': {
    summary: 'Start recording the room’s mix',
    tag: 'Recordings',
    auth: 'admin-or-room-admin',
    body: 'RecordingRequest',
    ok: { status: 201, description: 'the recording (queued)', schema: 'Recording' },
    errors: [400, 401, 403, 404, 409, 503, 507],
  },
  'get /v1/recordings': {
    summary: 'List recordings, newest first',
    tag: 'Recordings',
    auth: 'admin-or-room-admin',
    query: [
      { name: 'room', description: 'only this room' },
      { name: 'status', description: 'only this status', schema: { type: 'string', enum: ['queued', 'starting', 'active', 'stopping', 'finishing', 'ready', 'failed'] } },
      { name: 'limit', description: '1-500, default 50', schema: { type: 'integer', minimum: 1, maximum: 500 } },
      { name: 'cursor', description: 'nextCursor of the previous page' },
    ],
    ok: { status: 200, description: 'a page', schema: 'RecordingList' },
    errors: [400, 401, 403],
  },
  'get /v1/recordings/{id}': { summary: 'A recording (duration and size grow while active)', tag: 'Recordings', auth: 'admin-or-room-admin', ok: { status: 200, description: 'the recording', schema: 'Recording' }, errors: [401, 403, 404] },
  'post /v1/recordings/{id}/stop': { summary: 'Stop a recording', tag: 'Recordings', auth: 'admin-or-room-admin', ok: { status: 202, description: 'stopping', schema: 'Recording' }, errors: [401, 403, 404, 409] },
  'get /v1/recordings/{id}/file': {
    summary: 'Download the file (Range supported: 206, 416)',
    tag: 'Recordings',
    auth: 'admin-or-room-admin',
    ok: { status: 200, description: 'video/mp4, audio/mp4, video/webm, video/x-matroska, …', type: 'file' },
    errors: [401, 403, 404, 409, 416],
  },
  'get /v1/recordings/{id}/thumbnail': {
    summary: 'The recording’s thumbnail: a JPEG of the frame 1 s in (the middle of a shorter one), at most 640 pixels wide; video recordings, once ready (see thumbnailUrl)',
    tag: 'Recordings',
    auth: 'admin-or-room-admin',
    ok: { status: 200, description: 'image/jpeg', type: 'file' },
    errors: [401, 403, 404],
  },
  'get /v1/recordings/{id}/parts/{n}': {
    summary: 'Download part n (1-based, as listed in parts) of a recording that lost its room’s stream and reconnected (Range supported: 206, 416)',
    tag: 'Recordings',
    auth: 'admin-or-room-admin',
    ok: { status: 200, description: 'the part’s file, of the recording’s content type', type: 'file' },
    errors: [401, 403, 404, 416],
  },
  'delete /v1/recordings/{id}': { summary: 'Delete a recording and its files (stops it first)', tag: 'Recordings', auth: 'admin', ok: { status: 204, description: 'deleted' }, errors: [401, 404] },
  'post /v1/rooms/{name}/livestreams': {
    summary: 'Push the room’s mix to an RTMP(S) destination (a BullMQ job run by a worker; several per room). 400 for a URL on loopback, private or link-local hosts unless RTMP_ALLOW_PRIVATE=1',
    tag: 'Livestreams',
    auth: 'admin-or-room-admin',
    body: 'LivestreamRequest',
    ok: { status: 201, description: 'the livestream (queued), URL masked', schema: 'Livestream' },
    errors: [400, 401, 403, 404, 413, 415, 503],
  },
  'get /v1/livestreams': {
    summary: 'List livestreams',
    tag: 'Livestreams',
    auth: 'admin-or-room-admin',
    query: [
      { name: 'room', description: 'only this room' },
      { name: 'status', description: 'only this status', schema: { type: 'string', enum: ['queued', 'connecting', 'active', 'reconnecting', 'failed', 'stopped'] } },
      { name: 'limit', description: 'at most this many', schema: { type: 'integer', minimum: 1 } },
    ],
    ok: { status: 200, description: 'the livestreams, newest first', schema: 'LivestreamList' },
    errors: [400, 401, 403],
  },
  'get /v1/livestreams/{id}': { summary: 'A livestream and its status (connecting, active, reconnecting, failed with lastError, stopped)', tag: 'Livestreams', auth: 'admin-or-room-admin', ok: { status: 200, description: 'the livestream', schema: 'Livestream' }, errors: [401, 403, 404] },
  'delete /v1/livestreams/{id}': { summary: 'Stop a livestream (waits up to 8 s for the worker to hang up)', tag: 'Livestreams', auth: 'admin-or-room-admin', ok: { status: 200, description: 'the final record', schema: 'Livestream' }, errors: [401, 403, 404] },
  'post /v1/rooms/{name}/hls': { summary: 'Start HLS of the room’s mix now (it also starts on the first viewer request)', tag: 'HLS', auth: 'admin-or-room-admin', ok: { status: 202, description: 'starting', schema: 'HlsState' }, errors: [401, 403, 404, 503] },
  'get /v1/rooms/{name}/hls': { summary: 'Whether HLS runs for the room, and its settings', tag: 'HLS', auth: 'admin-or-room-admin', ok: { status: 200, description: 'the HLS state', schema: 'HlsState' }, errors: [401, 403, 404] },
  'delete /v1/rooms/{name}/hls': { summary: 'Stop HLS of the room (its files are removed)', tag: 'HLS', auth: 'admin-or-room-admin', ok: { status: 204, description: 'stopped' }, errors: [401, 403, 404] },
  'get /v1/rooms/{name}/hls/{file}': {
    summary: 'HLS for viewers: index.m3u8 (live playlist, or master playlist with a low rendition) and its segments; a room token with canSubscribe as ?token= (written onto every URI of the playlist) or Bearer',
    tag: 'HLS',
    auth: 'room-token',
    query: [{ name: 'token', description: 'a room token with canSubscribe' }],
    ok: { status: 200, description: 'application/vnd.apple.mpegurl (no-cache) or video/mp2t (immutable)', type: 'file' },
    errors: [401, 403, 404, 503],
  },
  'get /': { summary: 'The web client: the participant page (#token=… or #invite=…)', tag: 'Web client', ok: { status: 200, description: 'HTML page', type: 'html' } },
  'get /host': { summary: 'The web client: the host page (API key once, or a host link #token=… with the roomAdmin grant)', tag: 'Web client', ok: { status: 200, description: 'HTML page', type: 'html' } },
  'get /watch': { summary: 'The web client: the viewer page, HLS with hls.js (#token=… or #invite=…)', tag: 'Web client', ok: { status: 200, description: 'HTML page', type: 'html' } },
  'get /web/{file}': { summary: 'Web client assets (the pages\' scripts, style.css, hls.min.js)', tag: 'Web client', ok: { status: 200, description: 'the file', type: 'text' }, errors: [404] },
  'get /v1/dev': { summary: 'Whether the dev token endpoint is available', tag: 'Web client', ok: { status: 200, description: '{devTokens: boolean}' } },
  'post /v1/dev/tokens': {
    summary: 'DEV ONLY (dev credentials in use): a token without authentication, for the web client',
    tag: 'Web client',
    body: 'DevTokenRequest',
    ok: { status: 201, description: 'as the token call', schema: 'TokenResponse' },
    errors: [400, 404, 503],
  },
};
