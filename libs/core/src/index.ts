export * from './errors';
export * from './layout';
export * from './token';
export * from './validation';
