export * from './embedded-redis';
export * from './queues';
export * from './recording';
export * from './recording-args';
export * from './recording-store';
export * from './webhook';
export * from './events';
export * from './redis-connections';
