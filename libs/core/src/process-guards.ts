/** A rejection's reason for a log line: an error's stack (or message), anything else as JSON or a string. */
export function describeRejection(reason: unknown): string {
  if (reason instanceof Error) return reason.stack ?? `${reason.name}: ${reason.message}`;
  if (typeof reason === 'string') return reason;
  if (reason === undefined) return 'undefined';
  try {
    return JSON.stringify(reason);
  } catch {
    return String(reason);
  }
}

/**
 * A promise rejected with nobody to handle it is logged, not fatal (Node's default ends the process, and with it every
 * room, for a failed cleanup such as a file that could not be removed on a full disk). Uncaught exceptions still end
 * the process (or the room worker thread): their state is unknown. Returns the function that removes the handler.
 */
export function logUnhandledRejections(log: (message: string) => void): () => void {
  const logUnhandledRejection = (reason: unknown): void => log(`unhandled rejection (logged, not fatal): ${describeRejection(reason)}`);
  process.on('unhandledRejection', logUnhandledRejection);
  return () => void process.removeListener('unhandledRejection', logUnhandledRejection);
}
