/** Query parameters that carry secrets (presigned S3 URLs, API tokens). */
const SECRET_PARAM = /sig|token|secret|password|passwd|credential|auth|key|session/i;

/**
 * The URL as it may appear in a message, a log line or an event: no user:password, and the values
 * of query parameters that look like secrets replaced by "***".
 */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '(an unparsable URL)';
  }
  if (u.username || u.password) {
    u.username = '';
    u.password = '';
  }
  for (const name of [...u.searchParams.keys()]) if (SECRET_PARAM.test(name)) u.searchParams.set(name, '***');
  return u.toString().replace(/%2A%2A%2A/g, '***');
}
