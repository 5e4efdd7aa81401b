import type { Credential } from './types.js';

/** COMFY_CONNECTOR_AUTH_<HOST> with the host upper-cased and every non-alphanumeric made "_". */
export function envNameFor(host: string): string {
  return `COMFY_CONNECTOR_AUTH_${host.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * The credential for a URL: the options' entry for "host:port" or "host", then the environment
 * (COMFY_CONNECTOR_AUTH_<HOST>: "Bearer x", "Basic base64", or "Header-Name: value"; HF_TOKEN for
 * huggingface.co), then user:password in the URL itself.
 */
export function credentialFor(url: URL, given: Record<string, Credential> | undefined, env: NodeJS.ProcessEnv): Credential | undefined {
  const byOption = given?.[url.host] ?? given?.[url.hostname];
  if (byOption) return byOption;
  const raw = env[envNameFor(url.host)] ?? env[envNameFor(url.hostname)];
  if (raw) return parseEnvCredential(raw);
  if ((url.hostname === 'huggingface.co' || url.hostname.endsWith('.huggingface.co')) && env.HF_TOKEN) return { bearer: env.HF_TOKEN };
  if (url.username || url.password) return { basic: { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } };
  return undefined;
}

function parseEnvCredential(raw: string): Credential {
  const m = /^(bearer|basic)\s+(.+)$/i.exec(raw.trim());
  if (m) {
    if ((m[1] as string).toLowerCase() === 'bearer') return { bearer: m[2] as string };
    const decoded = Buffer.from(m[2] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return { basic: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } };
  }
  const header = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(raw.trim());
  if (header) return { header: { name: header[1] as string, value: header[2] as string } };
  return { bearer: raw.trim() };
}

/** The request headers a credential adds (none for S3 keys: those sign requests instead). */
export function authHeaders(credential: Credential | undefined): Record<string, string> {
  if (!credential) return {};
  if ('bearer' in credential) return { authorization: `Bearer ${credential.bearer}` };
  if ('basic' in credential) return { authorization: `Basic ${Buffer.from(`${credential.basic.username}:${credential.basic.password}`).toString('base64')}` };
  if ('header' in credential) return { [credential.header.name.toLowerCase()]: credential.header.value };
  return {};
}
