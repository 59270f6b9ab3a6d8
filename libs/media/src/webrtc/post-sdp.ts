/**
 * The WHIP/WHEP offer POST, following a node's `307`/`308` to the node that hosts the room. Redirects are followed here
 * rather than by fetch: fetch (undici) drops the `Authorization` header on a cross-origin redirect, and another node is
 * another origin. At most `maxRedirects` hops; each Location is resolved against the URL that sent it, and the session
 * resource (the Location of the 201) against the URL that answered 201.
 */
export interface SdpPostResult {
  status: number;
  body: string;
  /** The URL that gave the final answer (after any redirects). */
  url: string;
  /** The session resource, absolute (only with a 201 that has a Location). */
  resourceUrl?: string;
}

/** A refused or failed SDP POST: `status` is the HTTP status, undefined for a network error, a timeout or a redirect loop. */
export class SdpPostError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SdpPostError';
  }
}

export const REDIRECT_STATUSES: readonly number[] = [307, 308];

export interface SdpPostOptions {
  /** For the whole exchange, redirects included (default 10 s). */
  timeoutMs?: number;
  maxRedirects?: number;
}

/** POSTs `sdp` (application/sdp, bearer `token`) and returns the final answer, whatever its status; throws SdpPostError on network errors. */
export async function postSdp(url: string, token: string, sdp: string, o: SdpPostOptions = {}): Promise<SdpPostResult> {
  const maxRedirects = o.maxRedirects ?? 3;
  const signal = AbortSignal.timeout(o.timeoutMs ?? 10_000);
  let current = url;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(current, {
        method: 'POST',
        redirect: 'manual',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/sdp', accept: 'application/sdp' },
        body: sdp,
        signal,
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new SdpPostError(`POST ${current}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    const body = await res.text().catch(() => '');
    const location = res.headers.get('location');
    if (REDIRECT_STATUSES.includes(res.status)) {
      if (!location) throw new SdpPostError(`POST ${current} answered ${res.status} without a Location`, res.status);
      if (hop >= maxRedirects) throw new SdpPostError(`POST ${url}: more than ${maxRedirects} redirects (last to ${location})`);
      current = new URL(location, current).toString();
      continue;
    }
    return { status: res.status, body, url: current, ...(res.status === 201 && location ? { resourceUrl: new URL(location, current).toString() } : {}) };
  }
}
