import { BlockList, isIP } from 'node:net';

/** Addresses a server-side client must not be sent to by a user: this host, private networks, link-local (metadata). */
// one list per family: an IPv4-mapped IPv6 rule would also match every IPv4 address
const PRIVATE_V4 = new BlockList();
const PRIVATE_V6 = new BlockList();
for (const [first, last] of [
  ['0.0.0.0', '0.255.255.255'],
  ['10.0.0.0', '10.255.255.255'],
  ['100.64.0.0', '100.127.255.255'],
  ['127.0.0.0', '127.255.255.255'],
  ['169.254.0.0', '169.254.255.255'],
  ['172.16.0.0', '172.31.255.255'],
  ['192.0.0.0', '192.0.0.255'],
  ['192.168.0.0', '192.168.255.255'],
  ['198.18.0.0', '198.19.255.255'],
  ['224.0.0.0', '255.255.255.255'],
] as const) PRIVATE_V4.addRange(first, last, 'ipv4');
for (const [first, last] of [
  ['::', '::1'],
  ['::ffff:0.0.0.0', '::ffff:255.255.255.255'],
  ['64:ff9b::', '64:ff9b::ffff:ffff'],
  ['fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ['fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ['ff00::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
] as const) PRIVATE_V6.addRange(first, last, 'ipv6');

const PRIVATE_NAMES = /(^|\.)(localhost|internal|local|home\.arpa)$/i;

/**
 * Whether a URL's host is this machine, a private or link-local network (the cloud metadata service), or written so
 * that a resolver would read it as an address the checks cannot see (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`:
 * getaddrinfo takes those for 127.0.0.1). Names are checked as written, not resolved (a public name that resolves to a
 * private address is not caught here).
 */
export function isPrivateHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  const family = isIP(h);
  if (family === 4) return PRIVATE_V4.check(h, 'ipv4');
  if (family === 6) return PRIVATE_V6.check(h, 'ipv6');
  // numeric forms that are not a canonical dotted quad: inet_aton reads them as addresses
  if (/^[0-9.]+$/.test(h) || /^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$/.test(h)) return true;
  return PRIVATE_NAMES.test(h) || h === 'metadata';
}
