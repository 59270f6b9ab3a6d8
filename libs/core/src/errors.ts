/**
 * Domain errors carry a stable machine-readable `code`; the HTTP and WS filters map codes to status / error frames.
 * The domain never throws framework exceptions.
 */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'invalid_sdp'
  | 'codec_unsupported'
  | 'unauthorized'
  | 'token_expired'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'method_not_allowed'
  | 'invalid_state'
  | 'shutting_down'
  | 'unavailable'
  | 'capacity_exceeded'
  | 'insufficient_storage'
  | 'internal_error';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** For 503s: when the client should try again (a Retry-After header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, code: ErrorCode = 'validation_failed') {
    super(code, message);
  }
}
export class NotFoundError extends DomainError {
  constructor(message: string) {
    super('not_found', message);
  }
}
/** The room was closed (deleted) before an operation on it finished: a 404 like any deleted room. */
export class RoomClosedError extends NotFoundError {
  constructor(readonly room: string) {
    super(`room "${room}" was deleted`);
  }
}
export class UnauthorizedError extends DomainError {
  constructor(message: string, code: 'unauthorized' | 'token_expired' = 'unauthorized') {
    super(code, message);
  }
}
export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super('forbidden', message);
  }
}
export class ConflictError extends DomainError {
  constructor(message: string) {
    super('conflict', message);
  }
}
export class InvalidStateError extends DomainError {
  constructor(message: string) {
    super('invalid_state', message);
  }
}

/** HTTP status for each domain error code. */
export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  invalid_sdp: 400,
  codec_unsupported: 400,
  unauthorized: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unsupported_media_type: 415,
  payload_too_large: 413,
  method_not_allowed: 405,
  invalid_state: 409,
  shutting_down: 503,
  unavailable: 503,
  capacity_exceeded: 503,
  insufficient_storage: 507,
  internal_error: 500,
};

/** Not enough free disk space to start writing (a recording below MIN_FREE_DISK_MB): 507. */
export class InsufficientStorageError extends DomainError {
  constructor(message: string) {
    super('insufficient_storage', message);
  }
}

/** The server is draining for a shutdown: it takes no new joins; clients should retry on another instance (503). */
export class ShuttingDownError extends DomainError {
  constructor(message = 'the server is shutting down; try again in a moment (another instance may take you)') {
    super('shutting_down', message);
  }
}

/** Not ready yet (a playlist being produced, …): retry after `retryAfterSeconds` (503 with Retry-After). */
export class UnavailableError extends DomainError {
  constructor(message: string, retryAfterSeconds = 2) {
    super('unavailable', message, retryAfterSeconds);
  }
}

/**
 * The node has no room for the request (a limit or its CPU budget, see admission.ts): 503 with Retry-After, and the
 * limit named in the body, before anything starts. Running rooms are not degraded.
 */
export class CapacityError extends DomainError {
  constructor(
    readonly limit: string,
    message: string,
    retryAfterSeconds: number,
  ) {
    super('capacity_exceeded', message, retryAfterSeconds);
  }
}

/**
 * The room is full (`MAX_PUBLISHERS_PER_ROOM`): 409 `conflict`, as the API has promised from the start, with the limit
 * named in the body like a capacity refusal. It depends on the room, not on the node, so another node would not help.
 */
export class RoomFullError extends DomainError {
  constructor(
    readonly limit: string,
    message: string,
  ) {
    super('conflict', message);
  }
}

/** The limit a refusal names in its body (`error.limit`), if it is an admission refusal. */
export const refusedLimit = (e: DomainError): string | undefined => (e instanceof CapacityError || e instanceof RoomFullError ? e.limit : undefined);
