import { HTTP_STATUS_BY_CODE, type ErrorCode } from '@app/core';

/** The one error shape of the API: `{ error: { code, message } }`. */
export interface ErrorBody {
  /** `limit`: which admission limit refused the request (capacity_exceeded, and conflict when a room is full). */
  error: { code: string; message: string; limit?: string };
}

export const errorBody = (code: string, message: string, limit?: string): ErrorBody => ({ error: { code, message, ...(limit ? { limit } : {}) } });

/** Status and code for errors that come from Express' body parsers and Nest's own exceptions. */
export function classifyHttpError(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}

export const statusOf = (code: ErrorCode): number => HTTP_STATUS_BY_CODE[code] ?? 500;
