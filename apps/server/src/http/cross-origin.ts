import type { IncomingHttpHeaders } from 'node:http';

/**
 * The routes other origins may call from a browser (CORS `*`): those authenticated by a bearer room token, which a
 * browser never sends by itself — WHIP/WHEP sessions, HLS files, the dev token endpoint, health. Admin routes (Basic
 * auth, which a browser caches and sends on its own) are not among them.
 */
const OPEN = [/^\/v1\/rooms\/[^/]+\/(whip|whep)(\/[^/]+)?\/?$/, /^\/v1\/rooms\/[^/]+\/hls\/[^/]+$/, /^\/v1\/dev\/tokens\/?$/, /^\/(healthz|readyz)\/?$/];

export function corsOpenPath(url: string): boolean {
  const path = url.split('?')[0];
  return OPEN.some((re) => re.test(path));
}

/**
 * Whether a browser sent this request from a page of another origin: an `Origin` header naming another host (or
 * `null`: a sandboxed or file page), or `Sec-Fetch-Site: cross-site`. Clients that are not browsers send neither.
 */
export function isCrossOrigin(headers: IncomingHttpHeaders): boolean {
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== headers.host;
  } catch {
    return true; // "null" or garbage: not this origin
  }
}
