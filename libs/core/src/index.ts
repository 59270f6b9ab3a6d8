export * from './errors';
export * from './layout';
export * from './token';
export * from './validation';
export * from './turn-credentials';
export * from './log-fields';
