/** Injection tokens of the server module. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const FFMPEG_INFO = Symbol('FFMPEG_INFO');
