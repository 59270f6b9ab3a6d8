/**
 * The logging surface the media layer and the job processors need. A line says what happened in its message (for
 * people) and which room, participant, recording or job it is about in its fields (for machines: pino logs them as
 * JSON fields), so a log line's wording is not an API. Rooms, publishers, subscribers, mixers and processors hand down
 * a {@link childLogger} carrying their ids.
 */

/** The ids a log line is about. */
export interface LogFields {
  room?: string;
  participant?: string;
  identity?: string;
  recording?: string;
  livestream?: string;
  job?: string;
}

export interface Logger {
  log(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error?(message: string, fields?: LogFields): void;
  debug?(message: string, fields?: LogFields): void;
}

/**
 * A logger whose lines carry `fields` (merged under those of each call) and, optionally, start with `prefix` (the
 * `[room X] ` tag people read); undefined when `parent` is.
 */
export function childLogger(parent: Logger, fields: LogFields, prefix?: string): Logger;
export function childLogger(parent: Logger | undefined, fields: LogFields, prefix?: string): Logger | undefined;
export function childLogger(parent: Logger | undefined, fields: LogFields, prefix = ''): Logger | undefined {
  if (!parent) return undefined;
  const merged = (f?: LogFields): LogFields => (f ? { ...fields, ...f } : fields);
  const { debug, error } = parent;
  return {
    log: (m, f) => parent.log(prefix + m, merged(f)),
    warn: (m, f) => parent.warn(prefix + m, merged(f)),
    error: (m, f) => (error ? error.call(parent, prefix + m, merged(f)) : parent.warn(prefix + m, merged(f))),
    debug: debug && ((m, f) => debug.call(parent, prefix + m, merged(f))),
  };
}

/** What Nest's Logger (and pino's) accept: a message string, or an object whose `msg` is the message. */
export interface ObjectLogger {
  log(message: string | object): void;
  warn(message: string | object): void;
  error(message: string | object): void;
  debug(message: string | object): void;
}

/** The line a structured logger gets: the bare message when there are no fields, else `{msg, ...fields}`. */
export function logLine(message: string, fields?: LogFields): string | ({ msg: string } & LogFields) {
  if (!fields) return message;
  const present = Object.entries(fields).filter(([, v]) => v !== undefined);
  return present.length ? { msg: message, ...Object.fromEntries(present) } : message;
}

/** Nest's Logger (nestjs-pino behind it) as a media Logger: the fields become JSON fields of the line. */
export function objectLogger(target: ObjectLogger): Logger {
  return {
    log: (m, f) => target.log(logLine(m, f)),
    warn: (m, f) => target.warn(logLine(m, f)),
    error: (m, f) => target.error(logLine(m, f)),
    debug: (m, f) => target.debug(logLine(m, f)),
  };
}
