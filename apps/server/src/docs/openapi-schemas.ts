/** JSON schemas of the API's bodies (components.schemas of the OpenAPI document). Kept in step with libs/core validation. */
type Schema = Record<string, unknown>;

const str = (description?: string, extra: Schema = {}): Schema => ({ type: 'string', ...(description ? { description } : {}), ...extra });
const int = (min: number, max: number, def?: number, description?: string): Schema => ({
  type: 'integer',
  minimum: min,
  maximum: max,
  ...(def !== undefined ? { default: def } : {}),
  ...(description ? { description } : {}),
});
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

export const SCHEMAS: Record<string, Schema> = {
  Error: {
    type: 'object',
    description: 'The one error shape of the API',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: str('machine-readable', {
            enum: ['bad_request', 'validation_failed', 'invalid_sdp', 'codec_unsupported', 'unauthorized', 'token_expired', 'forbidden', 'not_found', 'conflict', 'unsupported_media_type', 'payload_too_large', 'method_not_allowed', 'invalid_state', 'shutting_down', 'unavailable', 'capacity_exceeded', 'insufficient_storage', 'internal_error'],
          }),
          message: str('for humans'),
          limit: str('the admission limit that refused the request: capacity_exceeded (503 with Retry-After), or conflict for a full room (max_publishers_per_room, 409)', {
            enum: ['max_rooms', 'max_publishers_per_room', 'max_subscribers_per_room', 'max_subscribers', 'max_event_clients_per_room', 'rtc_ports', 'capacity_cores', 'worker_load'],
          }),
        },
      },
    },
    example: { error: { code: 'not_found', message: 'room "demo" not found' } },
  },
  RoomOptions: {
    type: 'object',
    properties: {
      layout: str('grid: every tile; speaker: the active speaker large; presentation: a screen share large; single: only the active speaker', {
        enum: ['grid', 'speaker', 'presentation', 'single'],
        default: 'grid',
      }),
      pinnedIdentity: str('this identity takes the large tile instead of the active speaker'),
      displayNames: { type: 'boolean', default: true, description: 'names under the tiles' },
      fit: str('how camera tiles are filled: cover (crop the overflow, no bands) or contain (the whole picture, with bands); screen shares always contain', {
        enum: ['cover', 'contain'],
        default: 'cover',
      }),
      width: int(160, 3840, 1280, 'even'),
      height: int(120, 2160, 720, 'even'),
      fps: int(5, 60, 30),
      videoBitrateKbps: int(100, 20000, 1500),
      videoCodec: str(undefined, { enum: ['h264', 'vp8'], default: 'h264' }),
      audioBitrateKbps: int(16, 256, 48),
    },
  },
  RoomUpdate: {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    properties: {
      layout: str(undefined, { enum: ['grid', 'speaker', 'presentation', 'single'] }),
      pinnedIdentity: { type: 'string', nullable: true, description: 'null unpins' },
      displayNames: { type: 'boolean' },
      fit: str(undefined, { enum: ['cover', 'contain'] }),
    },
  },
  RenditionRequest: {
    type: 'object',
    description:
      'A rung below high: strictly smaller in pixels and bitrate than the room and than the other rungs, bitrateKbps*1000/(width*height*fps) from 0.005 to 1',
    required: ['name', 'width', 'height', 'bitrateKbps'],
    additionalProperties: false,
    properties: {
      name: str('unique, not "high"', { pattern: '^[a-z][a-z0-9_-]{0,15}$' }),
      width: int(96, 3840, undefined, "even, at most the room's width"),
      height: int(54, 2160, undefined, "even, at most the room's height"),
      bitrateKbps: int(50, 19999, undefined, "below the room's videoBitrateKbps"),
      fps: int(5, 60, undefined, "at most the room's fps; default min(room fps, 20) below a quarter of the room's pixels, else the room's fps"),
    },
  },
  Rendition: {
    type: 'object',
    description: 'A rung of the effective ladder: the mix encoded at this size, shared by every subscriber on the rung',
    required: ['name', 'width', 'height', 'bitrateKbps', 'fps'],
    properties: { name: str(), width: { type: 'integer' }, height: { type: 'integer' }, bitrateKbps: { type: 'integer' }, fps: { type: 'integer' } },
  },
  CreateRoom: {
    allOf: [
      {
        type: 'object',
        required: ['name'],
        properties: {
          name: str('1-64 of letters, digits, "_", "-", "."', { pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }),
          renditions: {
            type: 'array',
            maxItems: 3,
            items: ref('RenditionRequest'),
            description: 'the rungs below high (creation only: PATCH refuses it); [] for high only; absent: medium (half size, a third of the bitrate) and low (quarter size, a tenth, at most 20 fps)',
          },
        },
      },
      ref('RoomOptions'),
    ],
  },
  Room: {
    allOf: [
      ref('RoomOptions'),
      {
        type: 'object',
        required: ['name', 'renditions', 'createdAt', 'numPublishers', 'numSubscribers'],
        properties: {
          name: str(),
          renditions: { type: 'array', description: 'the effective ladder, high (the room itself) first, by bitrate descending', items: ref('Rendition') },
          createdAt: str(undefined, { format: 'date-time' }),
          numPublishers: { type: 'integer' },
          numSubscribers: { type: 'integer' },
          node: { type: 'string', nullable: true, description: 'the node its media runs on; null: none now (placed at its next join)' },
          participants: { type: 'array', description: 'GET /v1/rooms/{name} only', items: ref('Participant') },
          mixer: { type: 'object', description: 'GET /v1/rooms/{name} only: running, tiles, counters, and `renditions` (per rung: running, users, frames, keyframes requested/forced/sent)', additionalProperties: true },
        },
      },
    ],
  },
  Participant: {
    type: 'object',
    properties: {
      identity: str(),
      displayName: str(),
      publisher: {
        type: 'object',
        properties: {
          id: str(),
          audio: { type: 'boolean' },
          video: { type: 'boolean' },
          videoCodec: str(),
          audioMuted: { type: 'boolean', description: 'the participant said it muted its microphone (events socket frame {"type":"mute"})' },
          videoMuted: { type: 'boolean', description: 'the participant said it turned its camera off' },
          since: str(),
          stats: { type: 'object', additionalProperties: { type: 'number' } },
        },
      },
      subscriber: {
        type: 'object',
        properties: {
          id: str(),
          since: str(),
          rendition: { type: 'string', nullable: true, description: 'the rendition it receives; null: video paused (audio only) or not started yet' },
          targetRendition: { type: 'string', nullable: true, description: 'the rendition it is switching to (at its next keyframe); null: pausing' },
          estimateKbps: { type: 'integer', description: 'its downlink estimate (absent for hidden recorder/livestream subscribers, which always get high)' },
          stats: { type: 'object', description: 'packets out, probes, PLIs, NACKs, retransmissions (sent and skipped), switches up and down', additionalProperties: { type: 'number' } },
        },
      },
      screen: { type: 'object', description: 'a screen share (WHIP ?source=screen), shaped like publisher', additionalProperties: true },
    },
  },
  RoomList: { type: 'object', required: ['rooms'], properties: { rooms: { type: 'array', items: ref('Room') } } },
  NodeList: {
    type: 'object',
    required: ['self', 'nodes'],
    properties: {
      self: str('the id of the node that answered'),
      nodes: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: str(),
            url: str('PUBLIC_URL: where clients are redirected for its rooms'),
            coresLeft: { type: 'number' },
            roomsLeft: { type: 'integer' },
            rooms: { type: 'integer' },
            load: { type: 'number', description: 'mean event-loop utilisation of its room workers' },
            draining: { type: 'boolean' },
            at: { type: 'integer', description: 'its last heartbeat (epoch ms)' },
          },
        },
      },
    },
  },
  TokenRequest: {
    type: 'object',
    required: ['identity'],
    properties: {
      identity: str(undefined, { pattern: '^[A-Za-z0-9_.@:+-]{1,128}$' }),
      displayName: str(undefined, { maxLength: 128 }),
      canPublish: { type: 'boolean', default: true },
      canSubscribe: { type: 'boolean', default: true },
      ttlSeconds: int(10, 604800, 3600),
      roomAdmin: {
        type: 'boolean',
        default: false,
        description: "the meeting's host: this token may also call this room's admin actions (layout, pin, recordings, livestreams, HLS, its tokens); admin credentials only",
      },
      invite: {
        type: 'boolean',
        default: false,
        description: 'an invitation (one link for many people): opens no session itself; each person exchanges it at POST /v1/rooms/{name}/join for a token with canPublish/canSubscribe as given here',
      },
    },
  },
  JoinRequest: { type: 'object', required: ['displayName'], properties: { displayName: str('your name, 1-64 printable characters; your identity is made from it and a random suffix', { maxLength: 64 }) } },
  DevTokenRequest: { allOf: [ref('TokenRequest'), { type: 'object', required: ['room'], properties: { room: str() } }] },
  IceServer: {
    type: 'object',
    required: ['urls'],
    description: 'With TURN_SECRET, turn:/turns: servers carry short-lived TURN REST credentials (username "expiry:identity")',
    properties: { urls: { type: 'array', items: str() }, username: str(), credential: str() },
  },
  TokenResponse: {
    type: 'object',
    required: ['token', 'room', 'identity', 'expiresAt', 'grants', 'iceServers'],
    properties: {
      token: str('JWT (HS256) for WHIP/WHEP: Authorization: Bearer <token>'),
      room: str(),
      identity: str(),
      expiresAt: str(undefined, { format: 'date-time' }),
      grants: {
        type: 'object',
        properties: {
          canPublish: { type: 'boolean' },
          canSubscribe: { type: 'boolean' },
          roomAdmin: { type: 'boolean' },
          invite: { type: 'object', properties: { canPublish: { type: 'boolean' }, canSubscribe: { type: 'boolean' } } },
        },
      },
      iceServers: { type: 'array', items: ref('IceServer') },
    },
  },
  Ok: { type: 'object', properties: { ok: { type: 'boolean', enum: [true] } } },
  RecordingRequest: {
    type: 'object',
    properties: { format: str(undefined, { enum: ['mp4', 'webm', 'mkv'], default: 'mp4' }), audioOnly: { type: 'boolean', default: false }, name: str(undefined, { maxLength: 128 }) },
  },
  Recording: {
    type: 'object',
    required: ['id', 'room', 'name', 'format', 'audioOnly', 'status', 'createdAt'],
    properties: {
      id: str(undefined, { pattern: '^rec_[a-z0-9]{16}$' }),
      room: str(),
      name: str(),
      format: str(undefined, { enum: ['mp4', 'webm', 'mkv'] }),
      audioOnly: { type: 'boolean' },
      status: str('`finishing`: ended, its file being stitched or rewritten with its index at the front (then `ready`)', { enum: ['queued', 'starting', 'active', 'stopping', 'finishing', 'ready', 'failed'] }),
      createdAt: str(undefined, { format: 'date-time' }),
      startedAt: str(undefined, { format: 'date-time' }),
      endedAt: str(undefined, { format: 'date-time' }),
      error: str(),
      durationSeconds: { type: 'number', description: 'seconds recorded (grows while active; the finished file’s own duration once ready)' },
      sizeBytes: { type: 'integer', description: 'bytes of the file (grows while active; the finished file’s size once ready)' },
      warning: str('a ready recording whose parts could not be stitched into one file, or whose file could not be rewritten with its index at the front, says why here (its files stay downloadable, as recorded)'),
      thumbnailUrl: str('where its thumbnail (JPEG) is served, once it has one: /v1/recordings/{id}/thumbnail'),
      parts: {
        type: 'array',
        description: 'the files it was recorded in: one, or more when the room’s stream was lost and the worker reconnected (stitched into the recording’s file at the end)',
        items: ref('RecordingPart'),
      },
    },
  },
  RecordingPart: {
    type: 'object',
    required: ['index', 'fileName', 'startedAt'],
    properties: {
      index: { type: 'integer', minimum: 1, description: 'GET /v1/recordings/{id}/parts/{index} downloads it' },
      fileName: str('<id>.<ext> while it is the only part, else <id>.part<index>.<ext>'),
      startedAt: str(undefined, { format: 'date-time' }),
      endedAt: str('absent while it is being written', { format: 'date-time' }),
      durationSeconds: { type: 'number' },
      sizeBytes: { type: 'integer' },
    },
  },
  LivestreamRequest: {
    type: 'object',
    required: ['url'],
    additionalProperties: false,
    properties: { url: str('rtmp:// or rtmps:// only (anything else, including ffmpeg protocol or option tricks, is a 400)', { example: 'rtmp://live.example.com/app/STREAM-KEY' }) },
  },
  Livestream: {
    type: 'object',
    required: ['id', 'room', 'url', 'status', 'createdAt', 'startedAt', 'failedAttempts', 'reconnects'],
    properties: {
      id: str(undefined, { pattern: '^ls_[a-z0-9]{16}$' }),
      room: str(),
      url: str('the destination with its stream key (and any password or query value) masked'),
      status: str(undefined, { enum: ['queued', 'connecting', 'active', 'reconnecting', 'failed', 'stopped'] }),
      createdAt: str(undefined, { format: 'date-time' }),
      startedAt: str('when it was requested', { format: 'date-time' }),
      activeSince: str('when the current connection started carrying media', { format: 'date-time' }),
      endedAt: str(undefined, { format: 'date-time' }),
      lastError: str('the last destination or ffmpeg error (stream key masked)'),
      failedAttempts: { type: 'integer', description: 'failed attempts in a row; failed after LIVESTREAM_MAX_ATTEMPTS' },
      reconnects: { type: 'integer' },
    },
  },
  LivestreamList: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('Livestream') } } },
  HlsState: {
    type: 'object',
    required: ['room', 'running', 'playlist'],
    properties: {
      room: str(),
      running: { type: 'boolean' },
      startedAt: str(undefined, { format: 'date-time' }),
      playlist: str('the playlist path; add ?token=<room token>'),
      idleTimeoutSeconds: { type: 'number' },
      segmentSeconds: { type: 'number' },
      listSize: { type: 'integer' },
      lowRendition: { type: 'boolean' },
    },
  },
  RecordingList: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('Recording') }, nextCursor: str() } },
  Health: { type: 'object', properties: { status: str(undefined, { enum: ['ok'] }) } },
  Readiness: {
    type: 'object',
    properties: {
      status: str(undefined, { enum: ['ready', 'not_ready', 'shutting_down'] }),
      checks: { type: 'object', description: 'ffmpeg, redis, queue (workers, waiting, active, delayed), accepting', additionalProperties: { type: 'object', properties: { ok: { type: 'boolean' }, error: str() }, additionalProperties: true } },
      capacity: {
        type: 'object',
        description: 'admission control (informational: a full node stays ready for its rooms; new rooms and sessions get 503 capacity_exceeded)',
        properties: {
          limits: { type: 'object', description: 'rooms, publishersPerRoom, publishers, subscribersPerRoom, subscribers, eventClientsPerRoom, ports (with RTC_MIN_PORT/RTC_MAX_PORT), cores', additionalProperties: { type: 'number' } },
          used: { type: 'object', description: 'rooms, publishers, subscribers, outputs, ports (one per WebRTC session), cores (the cost model)', additionalProperties: { type: 'number' } },
          left: { type: 'object', description: 'rooms, subscribers, ports, cores', additionalProperties: { type: 'number' } },
          cores: { type: 'object', properties: { budget: { type: 'number' }, used: { type: 'number' }, left: { type: 'number' } } },
          workersOverloaded: { type: 'boolean', description: 'when room workers report their load: every one is above 0.85 ELU or 200 ms lag' },
        },
      },
    },
  },
};
