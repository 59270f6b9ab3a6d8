/**
 * Which MCU node to ask for a room's mix, in which order (pure). The configured server comes first; the other alive
 * nodes are tried only when it cannot be reached or answers 5xx. A 4xx is an answer about the room (404: no such room,
 * 401/403: the token), the same from every node, so it ends the search.
 */

/** `primary` first, then the others, without duplicates (a trailing slash does not make another node). */
export function candidateServers(primary: string, others: readonly string[]): string[] {
  const norm = (u: string) => u.trim().replace(/\/+$/, '');
  const out: string[] = [];
  for (const u of [primary, ...others].map(norm)) if (u && !out.includes(u)) out.push(u);
  return out;
}

/** True for a failure another node might not have: no HTTP status (network error, timeout, redirect loop) or a 5xx. */
export function worthAnotherNode(e: unknown): boolean {
  if (!(e instanceof Error) || e.name !== 'SdpPostError') return false;
  const status = (e as Error & { status?: number }).status;
  return status === undefined || status >= 500;
}

/**
 * `connect(primary)`, then, while the failure is worth another node, `connect` on each of `others()` (asked for only
 * then). Throws the last failure, its message naming every node tried.
 */
export async function connectInTurn<T>(primary: string, others: () => Promise<readonly string[]>, connect: (base: string) => Promise<T>): Promise<T> {
  const tried: string[] = [];
  let urls = candidateServers(primary, []);
  let last: unknown;
  for (let i = 0; i < urls.length; i++) {
    try {
      return await connect(urls[i]);
    } catch (e) {
      last = e;
      tried.push(`${urls[i]}: ${(e as Error).message}`);
      if (!worthAnotherNode(e)) break;
      if (i === 0) urls = candidateServers(primary, await others().catch(() => []));
    }
  }
  if (tried.length > 1 && last instanceof Error) last.message = `no node served the room's mix (${tried.join('; ')})`;
  throw last;
}
