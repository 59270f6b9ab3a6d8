import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { DomainError, redactUrl, refusedLimit } from '@app/core';
import { isRedisUnavailable } from '@app/jobs';
import type { Request, Response } from 'express';
import { classifyHttpError, errorBody, statusOf } from './error-body';

/** Seconds a client is told to wait (Retry-After) when Redis does not answer. */
export const REDIS_RETRY_AFTER_SECONDS = 2;

/**
 * Maps domain errors (by code) and framework exceptions to `{error: {code, message}}` with the right status; Redis
 * that cannot be reached (request-path commands fail within about a second) is a 503 `unavailable` with Retry-After.
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const url = redactUrl(req.originalUrl); // viewer tokens travel in HLS query strings
    let status = 500;
    let body = errorBody('internal_error', 'internal server error');
    if (exception instanceof DomainError) {
      status = statusOf(exception.code);
      body = errorBody(exception.code, exception.message, refusedLimit(exception));
      if (exception.retryAfterSeconds !== undefined && !res.headersSent) res.setHeader('Retry-After', String(exception.retryAfterSeconds));
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const r = exception.getResponse();
      const message = typeof r === 'string' ? r : ((r as { message?: string | string[] }).message ?? exception.message);
      body = errorBody(classifyHttpError(status), Array.isArray(message) ? message.join('; ') : message);
    } else if (isRedisUnavailable(exception)) {
      status = 503;
      body = errorBody('unavailable', 'the state store (Redis) is not answering; try again shortly');
      if (!res.headersSent) res.setHeader('Retry-After', String(REDIS_RETRY_AFTER_SECONDS));
      this.logger.warn(`${req.method} ${url} → 503: Redis unavailable (${(exception as Error).message})`);
    } else {
      this.logger.error(`${req.method} ${url}: ${(exception as Error)?.stack ?? String(exception)}`);
    }
    if (status >= 400 && status < 500) this.logger.log(`${req.method} ${url} → ${status} ${body.error.code}: ${body.error.message}`);
    if (res.headersSent) return;
    res.status(status).setHeader('Cache-Control', 'no-store').json(body);
  }
}
