import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { BadRequestError } from '../errors.js';

// Where a caller-supplied URL must not send the service: itself and its private network.
const PRIVATE = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  // An IPv4-mapped IPv6 address is its IPv4 address (a ::ffff:0:0/96 rule would match every IPv4).
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPrivateAddress(mapped[1]!);
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Refuses webhook URLs that are not http(s), carry credentials, or resolve to a loopback, private or
 * link-local address (unless the operator allowed private targets): a webhook must not turn the
 * service into a proxy into its own network.
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean, field = '/body/webhook/url'): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BadRequestError(`The webhook URL is not a URL.`, [{ field, message: 'not a URL' }]);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestError(`The webhook URL must be http(s) (got ${url.protocol}).`, [{ field, message: 'must be http(s)' }]);
  if (url.username || url.password) throw new BadRequestError('The webhook URL must not carry credentials; verify deliveries by their signature instead.', [{ field, message: 'credentials in URL' }]);
  if (allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : await lookup(host, { all: true }).then((a) => a.map((x) => x.address), () => [] as string[]);
  if (addresses.length === 0) throw new BadRequestError(`The webhook host ${host} does not resolve.`, [{ field, message: 'host does not resolve' }]);
  if (addresses.some(isPrivateAddress)) {
    throw new BadRequestError(`The webhook host ${host} is a loopback, private or link-local address.`, [{ field, message: 'private address' }], 'Use a public URL, or start the service with --allow-private-webhooks for receivers on your own network.');
  }
  return url;
}
