import WebSocket from 'ws';

export interface SocketMessage {
  type: string;
  data: Record<string, unknown>;
}

export interface SocketOptions {
  /** The server's http(s) base URL. */
  url: string;
  clientId: string;
  headers: Record<string, string>;
  onMessage: (message: SocketMessage) => void;
  onBinary: (frame: Buffer) => void;
  /** Called on every (re)open; `reconnected` is false the first time. */
  onOpen: (reconnected: boolean) => void;
  onDown: (reason: string) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * The one WebSocket of a client. Reconnects with exponential backoff until close() is called.
 * Each new socket is opened only after the previous one has fully closed: ComfyUI keys sockets
 * by clientId, and the cleanup of an old socket would otherwise unregister its successor.
 */
export class ComfySocket {
  private ws: WebSocket | undefined;
  private closed = false;
  private opened = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private waiters: Array<(open: boolean) => void> = [];
  /** Time of the last frame received, for stall detection. */
  lastMessageAt = 0;

  constructor(private readonly options: SocketOptions) {
    this.backoffMs = options.initialBackoffMs ?? 200;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Resolves true once open, false if not open within timeoutMs (it keeps trying in the background). */
  waitOpen(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.isOpen) return Promise.resolve(true);
    if (!this.ws && !this.reconnectTimer) this.open();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (open: boolean) => {
        clearTimeout(timer);
        resolve(open);
      };
      this.waiters.push(done);
    });
  }

  /**
   * Drops the current socket and reconnects. A graceful close lets ComfyUI finish its cleanup of
   * the old socket before the new one registers under the same clientId (otherwise that cleanup
   * unregisters the new socket); terminate only if the close handshake does not finish.
   */
  recycle(): void {
    const ws = this.ws;
    if (this.closed || !ws) return;
    ws.close(1000, 'recycle');
    setTimeout(() => {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    }, 1000).unref?.();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.ws?.terminate();
    this.ws = undefined;
    this.settleWaiters(false);
  }

  private open(): void {
    const base = new URL(this.options.url);
    base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    base.pathname = `${base.pathname.replace(/\/+$/, '')}/ws`;
    base.search = `?clientId=${encodeURIComponent(this.options.clientId)}`;
    const ws = new WebSocket(base.toString(), { headers: this.options.headers, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      // Must be the first text message: it is the only one ComfyUI reads.
      ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      this.backoffMs = this.options.initialBackoffMs ?? 200;
      this.lastMessageAt = Date.now();
      const reconnected = this.opened;
      this.opened = true;
      this.settleWaiters(true);
      this.options.onOpen(reconnected);
    });
    ws.on('message', (data, isBinary) => {
      this.lastMessageAt = Date.now();
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) {
        this.options.onBinary(buf);
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(buf.toString('utf8'));
      } catch {
        return;
      }
      if (parsed && typeof parsed === 'object' && typeof (parsed as SocketMessage).type === 'string') {
        const msg = parsed as { type: string; data?: unknown };
        const data = msg.data && typeof msg.data === 'object' ? (msg.data as Record<string, unknown>) : {};
        this.options.onMessage({ type: msg.type, data });
      }
    });
    ws.on('error', () => {
      // 'close' follows every 'error'; reconnection is handled there.
    });
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.closed) return;
      // A failed attempt answers the waiters at once: run() then posts and learns from HTTP
      // whether the server is down (ConnectionLostError) or only its socket is unusable (polling).
      this.settleWaiters(false);
      this.options.onDown(`socket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) this.open();
    }, delay);
    this.reconnectTimer.unref?.();
  }

  private settleWaiters(open: boolean): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(open);
  }
}
