// The /ws endpoint: one socket per clientId, status on connect, feature_flags negotiation on the
// first JSON message, JSON frames {type, data} and the binary preview frames (types 1 and 4).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Faults } from './faults.js';
import type { Preview } from './nodes/types.js';

interface Client { ws: WebSocket; flags: Record<string, unknown>; sent: number }

export class SocketHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly features: () => Record<string, unknown>,
    private readonly queueInfo: () => unknown,
    private readonly faults: Faults,
    private readonly onConnect: (sid: string) => void,
  ) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      let sid = url.searchParams.get('clientId') ?? '';
      if (!sid) sid = randomUUID().replace(/-/g, '');
      const client: Client = { ws, flags: {}, sent: 0 };
      this.clients.set(sid, client);
      this.send('status', { status: this.queueInfo(), sid }, sid);
      this.onConnect(sid);
      let first = true;
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        let msg: unknown;
        try { msg = JSON.parse(data.toString()); } catch { return; }
        if (first && (msg as { type?: unknown })?.type === 'feature_flags') {
          client.flags = ((msg as { data?: Record<string, unknown> }).data ?? {});
          this.send('feature_flags', this.features(), sid);
        }
        first = false;
      });
      // Like aiohttp's handler: the cleanup removes whatever socket is registered under this id now.
      ws.on('close', () => { this.clients.delete(sid); });
      ws.on('error', () => undefined);
    });
  }

  private deliver(client: Client, payload: string | Buffer): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    client.ws.send(payload);
    client.sent++;
    const limit = this.faults.current.dropSocketsAfterMessages;
    if (limit !== undefined && client.sent >= limit) client.ws.terminate();
  }

  /** sid undefined = every socket (ComfyUI's send_sync with sid None). */
  send(type: string, data: unknown, sid?: string | null): void {
    const text = JSON.stringify({ type, data });
    if (sid === undefined || sid === null) for (const c of this.clients.values()) this.deliver(c, text);
    else { const c = this.clients.get(sid); if (c) this.deliver(c, text); }
  }

  /** ComfyUI decides by the prompt owner's flags (feature_flags.supports_feature(client_id)), not per socket. */
  ownerSupportsMetadata(sid: string | null): boolean {
    return sid !== null && this.clients.get(sid)?.flags.supports_preview_metadata === true;
  }

  /** Type 4 (JSON metadata header + image), to the owner only, when it negotiated supports_preview_metadata. */
  sendPreview(preview: Preview, metadata: Record<string, unknown>, sid: string | null): void {
    if (!this.ownerSupportsMetadata(sid)) return;
    const c = this.clients.get(sid!)!;
    const meta = Buffer.from(JSON.stringify({ ...metadata, image_type: preview.format === 'PNG' ? 'image/png' : 'image/jpeg' }));
    const head = Buffer.alloc(8);
    head.writeUInt32BE(4, 0);
    head.writeUInt32BE(meta.length, 4);
    this.deliver(c, Buffer.concat([head, meta, preview.data]));
  }

  /** Type 1 (format 1 = JPEG, 2 = PNG) otherwise: to the owner, or to every socket without client_id. */
  sendLegacyPreview(preview: Preview, sid: string | null): void {
    if (this.ownerSupportsMetadata(sid)) return;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(1, 0);
    head.writeUInt32BE(preview.format === 'PNG' ? 2 : 1, 4);
    const frame = Buffer.concat([head, preview.data]);
    const targets = sid === null ? [...this.clients.values()] : [this.clients.get(sid)].filter((c): c is Client => c !== undefined);
    for (const c of targets) this.deliver(c, frame);
  }

  closeAll(): void {
    for (const c of this.clients.values()) c.ws.terminate();
    this.wss.close();
  }
}
