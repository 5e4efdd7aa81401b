import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { SourceRefusedError } from '../errors.js';
import { redactUrl } from './redact.js';

const ALLOWED_SCHEMES = new Set(['http:', 'https:', 's3:']);

/**
 * Addresses a fetch of a user-supplied URL must not reach unless allowed: the machine itself, the
 * private ranges, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast and
 * the unspecified address. A service that fetches URLs for callers must not become a proxy into
 * its own network.
 */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) INTERNAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) INTERNAL.addSubnet(net, prefix, 'ipv6');

export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    // An IPv4-mapped address (::ffff:127.0.0.1) is that IPv4 address.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return INTERNAL.check(mapped[1] as string, 'ipv4');
    return INTERNAL.check(address, 'ipv6');
  }
  return INTERNAL.check(address, 'ipv4');
}

/** The scheme check, and for an IP-literal host the address check, before any connection. */
export function checkUrl(url: URL, allowPrivateNetwork: boolean, via?: string): void {
  const shown = redactUrl(url);
  if (!ALLOWED_SCHEMES.has(url.protocol)) {
    throw new SourceRefusedError(
      shown,
      `${via ? `${via} redirected to` : 'the scheme is'} "${url.protocol}", which is not fetched`,
      'Use an http://, https:// or s3:// URL; local files are named as paths by a local caller, never as file: URLs.',
    );
  }
  if (url.protocol === 's3:') return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivateNetwork && (isInternalAddress(host) || host === 'localhost' || host.endsWith('.localhost'))) {
    throw new SourceRefusedError(shown, `${host} is a loopback, private or link-local address${via ? ` (redirected from ${via})` : ''}`);
  }
}

/** Thrown from the lookup below; the fetch turns it into SourceRefusedError naming the URL. */
export class InternalAddressError extends Error {
  constructor(readonly host: string, readonly address: string) {
    super(`${host} resolves to ${address}, a loopback, private or link-local address`);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A dns.lookup for http.request that refuses internal addresses: the check happens on the address
 * the socket will connect to, so a name that resolves differently between a check and the
 * connection (DNS rebinding) cannot slip through.
 */
export function guardedLookup(allowPrivateNetwork: boolean) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true } as { all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      if (!allowPrivateNetwork) {
        const bad = addresses.find((a) => isInternalAddress(a.address));
        if (bad) return callback(new InternalAddressError(hostname, bad.address) as NodeJS.ErrnoException, '');
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
      callback(null, first.address, first.family);
    });
  };
}
