import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import type { NextFunction, Request, Response } from 'express';
import { errorBody } from '../http/error-body';
import { ADMIN_REQUIRED, isAdmin } from '../http/admin-auth.guard';
import { APP_CONFIG } from '../tokens';
import { QUEUE_BOARD_PATH, QueueCatalog } from './queue-catalog.service';

/** Bull Board (the queues' jobs, retries, failures) at /admin/queues, behind the admin credentials. */
export function installQueueBoard(app: INestApplication): void {
  const config = app.get<AppConfig>(APP_CONFIG);
  const catalog = app.get(QueueCatalog);
  app.use(QUEUE_BOARD_PATH, (req: Request, res: Response, next: NextFunction) => {
    if (isAdmin(req, config)) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="mcu"');
    res.status(401).json(errorBody('unauthorized', ADMIN_REQUIRED));
  });
  app.use(QUEUE_BOARD_PATH, catalog.board.getRouter());
}
