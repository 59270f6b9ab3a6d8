/**
 * `p`, or `onTimeout` if `p` has not settled after `ms`. Unlike racing `p` against sleep(ms), the timer is cleared
 * once `p` settles: a pending sleep would keep Node (and jest) alive for the rest of `ms` after the tests end.
 */
export async function within<T, U>(p: Promise<T>, ms: number, onTimeout: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<U>((r) => (timer = setTimeout(() => r(onTimeout), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
