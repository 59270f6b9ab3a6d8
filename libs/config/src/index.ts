export * from './config';
export * from './credentials';
export * from './pino-options';
export * from './secrets';
