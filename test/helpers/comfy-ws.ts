// A recording WebSocket client for tests: every frame kept in order, with waits on predicates.
import WebSocket from 'ws';

export type Frame = { kind: 'json'; type: string; data: Record<string, unknown> } | { kind: 'binary'; eventType: number; data: Buffer };

export class RecordingSocket {
  readonly frames: Frame[] = [];
  private listeners: Array<() => void> = [];
  private constructor(readonly ws: WebSocket, readonly clientId: string) {
    ws.on('message', (d, isBinary) => {
      const buf = Buffer.isBuffer(d) ? d : Buffer.from(d as ArrayBuffer);
      if (isBinary) this.frames.push({ kind: 'binary', eventType: buf.readUInt32BE(0), data: buf });
      else {
        const m = JSON.parse(buf.toString()) as { type: string; data: Record<string, unknown> };
        this.frames.push({ kind: 'json', type: m.type, data: m.data });
      }
      for (const l of this.listeners) l();
    });
  }

  static async open(url: string, clientId: string, featureFlags = true): Promise<RecordingSocket> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?clientId=${encodeURIComponent(clientId)}`);
    const s = new RecordingSocket(ws, clientId);
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    await s.waitFor((f) => f.kind === 'json' && f.type === 'status');
    if (featureFlags) {
      ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      await s.waitFor((f) => f.kind === 'json' && f.type === 'feature_flags');
    }
    return s;
  }

  json(): Array<{ type: string; data: Record<string, unknown> }> {
    return this.frames.flatMap((f) => (f.kind === 'json' ? [{ type: f.type, data: f.data }] : []));
  }

  /** JSON frames belonging to one prompt (status frames in between included). */
  forPrompt(promptId: string, from = 0): Array<{ type: string; data: Record<string, unknown> }> {
    return this.json().slice(from).filter((m) => m.type === 'status' || m.data.prompt_id === promptId);
  }

  waitFor(pred: (f: Frame) => boolean, timeoutMs = 60_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.frames.find(pred);
        if (hit) { cleanup(); resolve(hit); return true; }
        return false;
      };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for a WebSocket frame; got: ${this.json().map((m) => m.type).join(',')}`)); }, timeoutMs);
      const listener = () => { check(); };
      const cleanup = () => { clearTimeout(timer); this.listeners = this.listeners.filter((l) => l !== listener); };
      if (!check()) this.listeners.push(listener);
    });
  }

  /** Resolves once `executing {node: null}` arrived for the prompt. */
  waitDone(promptId: string, timeoutMs = 60_000): Promise<Frame> {
    return this.waitFor((f) => f.kind === 'json' && f.type === 'executing' && f.data.node === null && f.data.prompt_id === promptId, timeoutMs);
  }

  close(): void { this.ws.terminate(); }
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any; text: string }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { parsed = text; }
  return { status: r.status, body: parsed, text };
}

export async function getJson(url: string): Promise<any> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url} → ${r.status}`);
  return r.json();
}
