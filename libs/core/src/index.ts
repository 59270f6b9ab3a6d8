export * from './active-speaker';
export * from './composite-layout';
export * from './errors';
export * from './layout';
export * from './room-events';
export * from './token';
export * from './validation';
