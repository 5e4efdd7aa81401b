import net from 'node:net';
import { Readable } from 'node:stream';
import { StallError } from './transient.js';

/**
 * A plain-http GET on a socket whose reads land straight in the caller's memory (`net`'s `onread`).
 *
 * Why: node:http allocates a fresh 64 KiB buffer for every socket read, and for a large download the
 * allocation and the garbage collection that follows cost more CPU than the transfer itself (about
 * 1 s per GiB on the benchmark machine, on top of the read). Here the kernel copies the body
 * directly into the download's page-aligned blocks (see file-sink.ts): no allocation, no copy.
 *
 * Only the simple case is taken: a 200/206 with Content-Length and no Transfer-Encoding, or any
 * other status (whose body is not needed). Anything else (a chunked 200, a body without length, a
 * malformed answer) makes `rawGet` resolve `undefined`, and the caller asks again through node:http.
 * https:// always goes through node:https.
 */

export interface RawResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** For 200/206: the body, `Content-Length` bytes long. Otherwise the socket is already closed. */
  body: RawBody | undefined;
  /** Drops the response (closes the socket). */
  resume(): void;
}

/** Where a direct read puts its bytes (FileSink implements it). */
export interface BlockTarget {
  /** Room for the next read; undefined when every block is busy (the reader pauses). */
  room(): Buffer | undefined;
  /** `n` bytes were just read into the last room(). */
  commit(n: number): void;
  /** Copies bytes read elsewhere (the header read's leftover, a read made while paused). */
  put(data: Buffer): void;
  /** Set by the reader: called when a block frees up. */
  onRoom: (() => void) | undefined;
}

export interface RawOptions {
  connectMs: number;
  idleMs: number;
  lookup: net.LookupFunction;
  signal: AbortSignal | undefined;
}

const MAX_HEADER_BYTES = 64 * 1024;

/** Header names and values that may go on the wire as they are (no CR, LF or NUL). */
function safeHeaders(headers: Record<string, string>): boolean {
  return Object.entries(headers).every(([k, v]) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) && !/[\r\n\0]/.test(v));
}

export function rawGet(url: URL, headers: Record<string, string>, options: RawOptions): Promise<RawResponse | undefined> {
  if (url.protocol !== 'http:' || !safeHeaders(headers)) return Promise.resolve(undefined);
  options.signal?.throwIfAborted();
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || 80);
  const head = Buffer.allocUnsafe(MAX_HEADER_BYTES);
  let used = 0;
  return new Promise((resolve, reject) => {
    let settled = false;
    let body: RawBody | undefined;
    const socket = net.connect({
      host,
      port,
      lookup: options.lookup,
      onread: {
        buffer: () => (body ? body.nextBuffer() : head.subarray(used)),
        callback: (n: number, buf: Uint8Array) => (body ? body.onRead(n, buf) : onHead(n)),
      },
    });
    const fail = (error: Error): void => {
      clearTimeout(connectTimer);
      socket.destroy();
      if (!settled) {
        settled = true;
        reject(error);
      } else body?.destroy(error);
    };
    const connectTimer = setTimeout(() => fail(new StallError('connect', options.connectMs)), options.connectMs);
    // The same error node:http gives for an aborted request.
    const onAbort = (): void => fail(Object.assign(new Error('The operation was aborted', { cause: options.signal!.reason }), { name: 'AbortError', code: 'ABORT_ERR' }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => options.signal?.removeEventListener('abort', onAbort));
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      socket.setTimeout(options.idleMs);
    });
    socket.on('timeout', () => fail(new StallError('idle', options.idleMs)));
    socket.on('error', fail);
    const ended = (): void => {
      if (!settled) fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      else body?.onEnd();
    };
    socket.on('end', ended);
    socket.on('close', ended);
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, 'connection: close'];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);

    function onHead(n: number): boolean {
      used += n;
      for (;;) {
        const end = head.subarray(0, used).indexOf('\r\n\r\n');
        if (end < 0) {
          if (used === MAX_HEADER_BYTES) giveUp();
          return !settled;
        }
        const parsed = parseHead(head.toString('latin1', 0, end));
        const rest = Buffer.from(head.subarray(end + 4, used));
        if (!parsed) return giveUp();
        if (parsed.status >= 100 && parsed.status < 200) {
          // 1xx (Continue, Early Hints): the real answer follows.
          rest.copy(head);
          used = rest.length;
          continue;
        }
        settled = true;
        const { status, headers: h } = parsed;
        const length = h['content-length'];
        if ((status === 200 || status === 206) && (h['transfer-encoding'] !== undefined || length === undefined || !/^\d+$/.test(length))) return giveUp();
        if (status !== 200 && status !== 206) {
          socket.destroy();
          resolve({ statusCode: status, headers: h, body: undefined, resume: () => undefined });
          return false;
        }
        body = new RawBody(socket, Number(length), rest);
        resolve({ statusCode: status, headers: h, body, resume: () => socket.destroy() });
        // Paused until the body has somewhere to go.
        return false;
      }
    }

    function giveUp(): false {
      settled = true;
      clearTimeout(connectTimer);
      socket.destroy();
      resolve(undefined);
      return false;
    }
  });
}

function parseHead(text: string): { status: number; headers: Record<string, string> } | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || /^\s/.test(line)) return undefined; // obs-fold and junk: let node:http judge it
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length' && headers[name] !== undefined && headers[name] !== value) return undefined;
    headers[name] = headers[name] !== undefined && name !== 'content-length' ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(m[1]), headers };
}

/**
 * The body of a raw response. `pumpInto(target)` reads it straight into the target's blocks. Read as
 * a plain Readable instead, it pushes copies (slower; for callers that want a stream).
 */
export class RawBody extends Readable {
  private remaining: number;
  private target: BlockTarget | undefined;
  private onBytes: ((n: number) => void) | undefined;
  private done: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Where a read goes while the target has no room (at most one read, then the socket pauses). */
  private readonly spare = Buffer.allocUnsafe(64 * 1024);
  private paused = true;

  constructor(
    private readonly socket: net.Socket,
    readonly length: number,
    private leftover: Buffer,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.remaining = length;
  }

  /** Reads the whole body into `target`; `onBytes(n)` after each read (it may throw to stop). */
  pumpInto(target: BlockTarget, onBytes: (n: number) => void): Promise<void> {
    this.target = target;
    this.onBytes = onBytes;
    return new Promise((resolve, reject) => {
      this.done = { resolve, reject };
      this.once('error', reject);
      target.onRoom = () => {
        if (this.paused && this.remaining > 0 && !this.destroyed) this.resumeSocket();
      };
      try {
        const first = this.bodyPart(this.leftover);
        this.leftover = Buffer.alloc(0);
        if (first.length) {
          target.put(first);
          this.count(first.length);
        }
        if (this.remaining === 0) return this.finish();
        this.resumeSocket();
      } catch (error) {
        this.destroy(error as Error);
      }
    });
  }

  private resumeSocket(): void {
    this.paused = false;
    this.socket.resume();
  }

  /** The part of `data` that belongs to the body (a server must not send more, but may). */
  private bodyPart(data: Buffer): Buffer {
    return data.length > this.remaining ? data.subarray(0, this.remaining) : data;
  }

  private count(n: number): void {
    this.remaining -= n;
    this.onBytes?.(n);
  }

  private finish(): void {
    this.socket.destroy();
    this.push(null);
    this.done?.resolve();
  }

  /** onread: the buffer for the next read. */
  nextBuffer(): Buffer {
    if (this.target) {
      const room = this.target.room();
      if (room) return room.length > this.remaining ? room.subarray(0, this.remaining) : room;
    }
    return this.spare;
  }

  /** onread: `n` bytes landed in `buf`; false pauses the socket. */
  onRead(n: number, buf: Uint8Array): boolean {
    if (this.destroyed || this.remaining === 0) return false;
    try {
      const data = Buffer.from(buf.buffer, buf.byteOffset, n);
      const mine = this.bodyPart(data);
      if (!this.target) {
        if (mine.length) this.count(mine.length);
        const more = this.push(Buffer.from(mine));
        if (this.remaining === 0) {
          this.finish();
          return false;
        }
        this.paused = !more;
        return more;
      }
      if (buf === this.spare) this.target.put(mine);
      else this.target.commit(mine.length);
      this.count(mine.length);
      if (this.remaining === 0) {
        this.finish();
        return false;
      }
      // Every block busy: pause. The read after the resume lands in the spare buffer (the one
      // handed out next) and is copied into the block that freed up.
      if (!this.hasRoom()) {
        this.paused = true;
        return false;
      }
      return true;
    } catch (error) {
      this.destroy(error as Error);
      return false;
    }
  }

  private hasRoom(): boolean {
    return this.target?.room() !== undefined;
  }

  /** The socket ended: short of Content-Length, the body was cut. */
  onEnd(): void {
    if (this.remaining > 0) this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  }

  override _read(): void {
    if (this.target) return;
    if (this.leftover.length) {
      const first = this.bodyPart(this.leftover);
      this.leftover = Buffer.alloc(0);
      this.count(first.length);
      this.push(first);
      if (this.remaining === 0) return this.finish();
    }
    if (this.paused && this.remaining > 0) this.resumeSocket();
  }

  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    this.socket.destroy();
    if (this.target) this.target.onRoom = undefined;
    if (error) this.done?.reject(error);
    else if (this.remaining > 0) this.done?.reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    cb(error);
  }
}
