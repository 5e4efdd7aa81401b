import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { describeBinaryFrame } from './binary-frame.js';
import { describeBinary, describeHttpBody } from './http-body.js';
import type { HttpStep, ScenarioFile, Step, WsMessageStep } from './steps.js';

export interface HttpResult {
  status: number;
  body: unknown;
}

export interface UploadFile {
  filename: string;
  bytes: Buffer;
  contentType: string;
}

type Predicate = (message: WsMessageStep['message']) => boolean;

interface Waiter {
  predicate: Predicate;
  resolve: (message: WsMessageStep['message']) => void;
}

/**
 * One scenario's recording: a WebSocket for its clientId plus an HTTP helper, both appending
 * to one ordered step list as the traffic happens, so the interleaving in the fixture is real.
 */
export class ScenarioSession {
  readonly steps: Step[] = [];
  readonly clientId = randomUUID().replaceAll('-', '');
  private socket: WebSocket | undefined;
  private waiters: Waiter[] = [];

  constructor(
    readonly baseUrl: string,
    readonly featureFlags: boolean,
  ) {}

  /** Connects and waits for the greeting `status` (and the `feature_flags` reply when negotiated). */
  async open(): Promise<void> {
    const since = this.steps.length;
    const wsUrl = `${this.baseUrl.replace(/^http/, 'ws')}/ws?clientId=${this.clientId}`;
    const socket = new WebSocket(wsUrl);
    this.socket = socket;
    socket.on('message', (data, isBinary) => this.onFrame(toBuffer(data), isBinary));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    await this.waitFor((m) => m.type === 'status', 15_000, 'the greeting status message', since);
    if (this.featureFlags) {
      socket.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      await this.waitFor((m) => m.type === 'feature_flags', 15_000, 'the feature_flags reply', since);
    }
  }

  /** Closes the socket first (a second socket with the same id would be orphaned), then connects again. */
  async reconnect(): Promise<void> {
    await this.close();
    this.note('WebSocket closed; reconnecting with the same clientId');
    await this.open();
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close();
      setTimeout(() => {
        socket.terminate();
        resolve();
      }, 3000).unref();
    });
  }

  note(text: string): void {
    this.steps.push({ kind: 'note', text });
  }

  /** Sends a JSON (or no) body and records the exchange when the response has arrived. */
  async http(method: string, path: string, requestBody?: unknown): Promise<HttpResult> {
    const init: RequestInit = { method };
    if (requestBody !== undefined) {
      init.body = JSON.stringify(requestBody);
      init.headers = { 'content-type': 'application/json' };
    }
    return this.exchange(method, path, init, requestBody);
  }

  /** Sends a raw text body (for the non-JSON-body cases), recorded as that string. */
  async httpRaw(method: string, path: string, text: string): Promise<HttpResult> {
    return this.exchange(method, path, { method, body: text, headers: { 'content-type': 'text/plain' } }, text);
  }

  /** multipart/form-data upload; the file part is described (length, sha256), never stored. */
  async upload(path: string, fields: Record<string, string>, file?: UploadFile, fileField = 'image'): Promise<HttpResult> {
    const form = new FormData();
    const described: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) {
      form.append(key, value);
      described[key] = value;
    }
    if (file) {
      form.append(fileField, new Blob([new Uint8Array(file.bytes)], { type: file.contentType }), file.filename);
      described[fileField] = { filename: file.filename, ...describeBinary(file.contentType, file.bytes) };
    }
    return this.exchange('POST', path, { method: 'POST', body: form }, { multipart: described });
  }

  private async exchange(method: string, path: string, init: RequestInit, requestBody: unknown): Promise<HttpResult> {
    const response = await fetch(this.baseUrl + path, init);
    const bytes = Buffer.from(await response.arrayBuffer());
    const contentType = response.headers.get('content-type') ?? '';
    const body = describeHttpBody(contentType, bytes);
    const step: HttpStep = { kind: 'http', method, path, status: response.status, contentType, body };
    if (requestBody !== undefined) step.requestBody = requestBody;
    this.steps.push(step);
    return { status: response.status, body };
  }

  /** Resolves with the first message (already received from step `since` on, or future) that matches. */
  waitFor(predicate: Predicate, timeoutMs: number, what: string, since = 0): Promise<WsMessageStep['message']> {
    for (const step of this.steps.slice(since)) {
      if (step.kind === 'ws' && predicate(step.message)) return Promise.resolve(step.message);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** A prompt is over once `executing` with node null arrives for it (after its history entry is written). */
  waitForPromptEnd(promptId: string, timeoutMs = 120_000): Promise<WsMessageStep['message']> {
    return this.waitFor(
      (m) => m.type === 'executing' && isRecord(m.data) && m.data['node'] === null && m.data['prompt_id'] === promptId,
      timeoutMs,
      `executing {node: null} of prompt ${promptId}`,
    );
  }

  messagesOfType(type: string): WsMessageStep['message'][] {
    return this.steps.flatMap((s) => (s.kind === 'ws' && s.message.type === type ? [s.message] : []));
  }

  toFile(name: string, description: string): ScenarioFile {
    return { name, description, clientId: this.clientId, featureFlags: this.featureFlags, steps: this.steps };
  }

  private onFrame(frame: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.steps.push(describeBinaryFrame(frame));
      return;
    }
    const parsed = JSON.parse(frame.toString('utf8')) as { type: string; data: unknown };
    const message = { type: parsed.type, data: parsed.data };
    this.steps.push({ kind: 'ws', message });
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(message)) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(message);
      }
    }
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
