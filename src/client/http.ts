import { ConnectionLostError, HttpError } from '../errors.js';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  body?: FormData;
  signal?: AbortSignal;
}

/**
 * Thin fetch wrapper: base URL, the user's headers on every call, and typed failures
 * (HttpError for a non-2xx answer, ConnectionLostError when the server cannot be reached).
 */
export class HttpTransport {
  readonly baseUrl: string;

  constructor(url: string, readonly headers: Record<string, string> = {}) {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** The raw response of any status; throws only when the server cannot be reached. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { ...this.headers };
    let body: string | FormData | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body) body = options.body;
    try {
      const init: RequestInit = { method, headers };
      if (body !== undefined) init.body = body;
      if (options.signal) init.signal = options.signal;
      return await fetch(url, init);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ConnectionLostError(this.baseUrl, `${method} ${path} failed: ${describeFetchError(error)}`, error);
    }
  }

  /** Sends and requires a 2xx answer. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const res = await this.send(method, path, options);
    if (!res.ok) throw new HttpError(method, this.url(path, options.query), res.status, await safeText(res));
    return res;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, options);
    const text = await res.text();
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      throw new HttpError(method, this.url(path, options.query), res.status, text, 'The answer was not JSON: check that the URL points to ComfyUI and not to a proxy page.');
    }
  }

  /** For routes that answer 200 with an empty body (POST /queue, /interrupt, /free). */
  async post(path: string, json?: unknown): Promise<void> {
    const res = await this.request('POST', path, json === undefined ? {} : { json });
    await res.arrayBuffer();
  }
}

export async function safeText(res: Response): Promise<string> {
  try {
    return await res.text();
  } catch {
    return '';
  }
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}
