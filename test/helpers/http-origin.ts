// The tests' own HTTP origin for URL sources: files with Range and ETag, redirects, statuses,
// slow bodies, bodies cut short (injected failures), a route that needs credentials, and a route
// that never answers. It records every request so tests can check headers (Range, Authorization).
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface OriginFile {
  body?: Buffer;
  /** Served from disk instead of memory (large files for benchmarks). */
  path?: string;
  type?: string;
  /** Serve without Accept-Ranges / Range support. */
  noRanges?: boolean;
  /** Required Authorization header value. */
  authorization?: string;
  /** Milliseconds to wait between 64 KiB chunks. */
  chunkDelayMs?: number;
  /** Stop sending (socket kept open) after this many bytes: an idle stall. */
  stallAfter?: number;
  /** Cut the connection after this many bytes, for the next `cutTimes` requests. */
  cutAfter?: number;
  cutTimes?: number;
  /** Omit Content-Length (chunked body). */
  noLength?: boolean;
}

export interface OriginRequest {
  path: string;
  headers: IncomingMessage['headers'];
}

export interface Origin {
  url: string;
  port: number;
  requests: OriginRequest[];
  add(name: string, file: OriginFile): string;
  stop(): Promise<void>;
}

export async function startOrigin(): Promise<Origin> {
  const files = new Map<string, OriginFile>();
  const requests: OriginRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const parts = u.pathname.split('/').filter(Boolean);
    if (parts[0] === 'status') return void res.writeHead(Number(parts[1])).end(`status ${parts[1]}`);
    if (parts[0] === 'redirect') {
      const to = u.searchParams.get('to') ?? '/';
      return void res.writeHead(Number(u.searchParams.get('code') ?? 302), { location: to }).end();
    }
    if (parts[0] === 'loop') return void res.writeHead(302, { location: '/loop' }).end(); // redirects forever
    if (parts[0] === 'hang') return; // never answers
    if (parts[0] !== 'files' || !parts[1]) return void res.writeHead(404).end('not found');
    const name = decodeURIComponent(parts.slice(1).join('/'));
    const file = files.get(name);
    if (!file) return void res.writeHead(404).end('no such file');
    if (file.authorization && req.headers.authorization !== file.authorization) return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('unauthorized');
    const size = file.body ? file.body.length : statSync(file.path!).size;
    const etag = `"${createHash('sha1').update(`${name}:${size}`).digest('hex').slice(0, 16)}"`;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && !file.noRanges && (!req.headers['if-range'] || req.headers['if-range'] === etag)) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      if (start >= size) return void res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      status = 206;
    }
    const headers: Record<string, string> = { 'content-type': file.type ?? 'application/octet-stream', etag };
    if (!file.noRanges) headers['accept-ranges'] = 'bytes';
    if (!file.noLength) headers['content-length'] = String(end - start + 1);
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, headers);
    const cut = file.cutAfter !== undefined && (file.cutTimes ?? 1) > 0 ? file.cutAfter : undefined;
    if (cut !== undefined) file.cutTimes = (file.cutTimes ?? 1) - 1;
    if (file.path && !file.chunkDelayMs && cut === undefined && file.stallAfter === undefined) {
      createReadStream(file.path, { start, end, highWaterMark: 1 << 20 }).pipe(res);
      return;
    }
    const body = file.body ?? Buffer.alloc(0);
    let sent = 0;
    for (let at = start; at <= end; at += 65536) {
      const chunk = body.subarray(at, Math.min(end + 1, at + 65536));
      if (cut !== undefined && sent + chunk.length > cut) {
        res.write(chunk.subarray(0, Math.max(0, cut - sent)));
        await new Promise((r) => setTimeout(r, 20));
        res.destroy();
        return;
      }
      if (file.stallAfter !== undefined && sent + chunk.length > file.stallAfter) {
        res.write(chunk.subarray(0, Math.max(0, file.stallAfter - sent)));
        return; // keeps the socket open, sends nothing more
      }
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      sent += chunk.length;
      if (file.chunkDelayMs) await new Promise((r) => setTimeout(r, file.chunkDelayMs));
    }
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    requests,
    add(name, file) {
      files.set(name, file);
      return `${url}/files/${encodeURIComponent(name)}`;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
