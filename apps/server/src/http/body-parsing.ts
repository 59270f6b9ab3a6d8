import type { INestApplication } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { classifyHttpError, errorBody } from './error-body';

export const MAX_JSON_BYTES = 16 * 1024;
export const MAX_SDP_BYTES = 64 * 1024;

/**
 * JSON bodies and SDP bodies (`application/sdp`, read as text) with size limits. Parser failures (bad JSON, too large)
 * are answered here as JSON errors, before they reach a controller.
 */
export function installBodyParsing(app: INestApplication): void {
  app.use(express.json({ limit: MAX_JSON_BYTES, type: ['application/json', 'application/*+json'] }));
  app.use(express.text({ limit: MAX_SDP_BYTES, type: 'application/sdp' }));
  app.use((err: { status?: number; statusCode?: number; type?: string; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    const status = err.status ?? err.statusCode;
    if (!status || status < 400 || status >= 500) return next(err);
    const message =
      err.type === 'entity.too.large'
        ? `request body is too large (limits: ${MAX_JSON_BYTES} bytes JSON, ${MAX_SDP_BYTES} bytes SDP)`
        : err.type === 'entity.parse.failed'
          ? 'request body is not valid JSON'
          : (err.message ?? 'bad request');
    res.status(status).json(errorBody(classifyHttpError(status), message));
  });
}
