import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import https from 'node:https';
import { SourceAccessDeniedError, SourceHttpError, SourceRefusedError, SourceUnreachableError } from '../errors.js';
import { authHeaders, credentialFor } from './credentials.js';
import { directIo } from './file-sink.js';
import { rawGet, type RawBody } from './http-raw.js';
import type { Opener, Opened } from './opener.js';
import { checkUrl, guardedLookup, InternalAddressError } from './policy.js';
import { redactUrl } from './redact.js';
import { networkFailure, StallError, TransientError } from './transient.js';
import type { FetchOptions } from './types.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Opens an http(s) URL: follows redirects (re-checking each hop), sends per-host credentials, asks for ranges. */
export function httpOpener(url: URL, options: FetchOptions): Opener {
  const allow = options.allowPrivateNetwork === true;
  const env = options.env ?? process.env;
  const maxRedirects = options.maxRedirects ?? 5;
  const shownOrigin = redactUrl(url);
  return async ({ offset, validator, signal }): Promise<Opened> => {
    let current = url;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': 'comfy-connector', 'accept-encoding': 'identity' };
      // Credentials are per host: a redirect to another host gets that host's, never these.
      Object.assign(headers, authHeaders(credentialFor(current, options.credentials, env)));
      if (offset > 0) {
        headers.range = `bytes=${offset}-`;
        if (validator) headers['if-range'] = validator;
      }
      const res = await get(current, headers, options, allow, signal, shownOrigin, directIo(env));
      const status = res.statusCode ?? 0;
      if (REDIRECTS.has(status) && res.headers.location) {
        res.resume();
        if (hop >= maxRedirects) throw new SourceUnreachableError(shownOrigin, `more than ${maxRedirects} redirects`);
        let next: URL;
        try {
          next = new URL(res.headers.location, current);
        } catch {
          throw new SourceRefusedError(shownOrigin, `it redirected to an unparsable location`);
        }
        checkUrl(next, allow, redactUrl(current));
        if (next.protocol === 's3:') throw new SourceRefusedError(redactUrl(next), `${redactUrl(current)} redirected to s3:, which is only fetched when named directly`);
        current = next;
        continue;
      }
      if (status === 200 || status === 206) return opened(res, status === 206 && offset > 0, offset);
      res.resume();
      const shown = redactUrl(current);
      if (status === 401 || status === 403) throw new SourceAccessDeniedError(shown, `HTTP ${status}`);
      if (status === 416) throw new TransientError(new SourceHttpError(shown, status), true);
      if (status >= 500 || status === 408 || status === 429) throw new TransientError(new SourceHttpError(shown, status));
      throw new SourceHttpError(shown, status);
    }
  };
}

/** One answer, from node:http(s) or from the raw plain-http path. */
interface Answer {
  statusCode: number | undefined;
  headers: IncomingHttpHeaders;
  /** Discards the body. */
  resume(): void;
  /** The body (200/206). */
  stream: Readable | undefined;
  direct?: RawBody | undefined;
}

function get(url: URL, headers: Record<string, string>, options: FetchOptions, allow: boolean, signal: AbortSignal | undefined, shownOrigin: string, direct: boolean): Promise<Answer> {
  if (url.protocol === 'http:' && direct) {
    const raw = rawGet(url, headers, {
      connectMs: options.connectTimeoutMs ?? 10_000,
      idleMs: options.idleTimeoutMs ?? 30_000,
      lookup: guardedLookup(allow) as never,
      signal,
    }).catch((error: unknown) => Promise.reject(requestFailure(error, url, shownOrigin)));
    // undefined: an answer the raw path does not take (chunked, no length); node:http asks again.
    return raw.then((r): Answer | Promise<Answer> => (r ? { statusCode: r.statusCode, headers: r.headers as IncomingHttpHeaders, resume: r.resume, stream: r.body, direct: r.body } : viaNode()));
  }
  return viaNode();
  async function viaNode(): Promise<Answer> {
    const res = await request(url, headers, options, allow, signal, shownOrigin);
    return { statusCode: res.statusCode, headers: res.headers, resume: () => res.resume(), stream: res };
  }
}

function requestFailure(error: unknown, url: URL, shownOrigin: string): Error {
  if (error instanceof InternalAddressError) {
    return new SourceRefusedError(shownOrigin, `${error.host} resolves to ${error.address}, a loopback, private or link-local address`);
  }
  if ((error as Error).name === 'AbortError') return error as Error;
  return networkFailure(error, redactUrl(url));
}

function opened(res: Answer, partial: boolean, offset: number): Opened {
  const length = Number(res.headers['content-length']);
  const range = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
  const total = range ? Number(range[1]) : Number.isFinite(length) && res.headers['content-length'] !== undefined ? length + (partial ? offset : 0) : undefined;
  return {
    stream: res.stream!,
    direct: res.direct,
    partial,
    total,
    mime: res.headers['content-type']?.split(';')[0]?.trim() || undefined,
    fileName: dispositionName(res.headers['content-disposition']),
    validator: (res.headers.etag && !res.headers.etag.startsWith('W/') ? res.headers.etag : undefined) ?? res.headers['last-modified'],
  };
}

/** filename*=UTF-8''x or filename="x", reduced to its last path segment. */
function dispositionName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const star = /filename\*\s*=\s*[^']*''([^;]+)/i.exec(header);
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  let name = star ? safeDecode(star[1] as string) : plain?.[1];
  name = name?.split(/[\\/]/).pop()?.trim();
  return name || undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function request(url: URL, headers: Record<string, string>, options: FetchOptions, allow: boolean, signal: AbortSignal | undefined, shownOrigin: string): Promise<IncomingMessage> {
  const connectMs = options.connectTimeoutMs ?? 10_000;
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // agent: false: one fresh connection per attempt, so the connect timer always means connecting.
    const req = mod.request(url, { method: 'GET', headers, agent: false, lookup: guardedLookup(allow) as never, ...(signal ? { signal } : {}) });
    const connectTimer = setTimeout(() => req.destroy(new StallError('connect', connectMs)), connectMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) return clearTimeout(connectTimer);
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    req.setTimeout(idleMs, () => req.destroy(new StallError('idle', idleMs)));
    req.once('response', (res) => {
      clearTimeout(connectTimer);
      req.setTimeout(0); // the body's silence is watched by the download loop
      resolve(res);
    });
    req.once('error', (error) => {
      clearTimeout(connectTimer);
      reject(requestFailure(error, url, shownOrigin));
    });
    req.end();
  });
}
