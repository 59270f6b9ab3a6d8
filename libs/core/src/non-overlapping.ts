/**
 * Wraps a periodic task (a sweep, a heartbeat) so that a tick while the previous run is still in flight is skipped
 * instead of queued: while Redis is stopped each run hangs, and without this every tick of the outage would wait in
 * line and then all run at once when Redis answers again. Resolves to whether this call ran; errors go to `onError`.
 */
export function nonOverlapping(task: () => Promise<unknown> | unknown, onError: (e: unknown) => void = () => undefined): () => Promise<boolean> {
  let running = false;
  return async () => {
    if (running) return false;
    running = true;
    try {
      await task();
    } catch (e) {
      onError(e);
    } finally {
      running = false;
    }
    return true;
  };
}
