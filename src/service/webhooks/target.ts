import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isInternalAddress } from '../../sources/policy.js';
import { BadRequestError } from '../errors.js';

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
  // The same address policy as fetched sources: a webhook must not reach the service's own network either.
  if (addresses.some(isInternalAddress)) {
    throw new BadRequestError(`The webhook host ${host} is a loopback, private or link-local address.`, [{ field, message: 'private address' }], 'Use a public URL, or start the service with --allow-private-webhooks for receivers on your own network.');
  }
  return url;
}
