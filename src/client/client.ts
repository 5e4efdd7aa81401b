import { randomUUID } from 'node:crypto';
import { CancelledError, ConnectionLostError, ConnectorClosedError, HttpError } from '../errors.js';
import { decodeBinaryFrame } from './frames.js';
import { HttpTransport, safeText } from './http.js';
import { ActiveRun, type RunHost, type RunOptions, type RunTimings } from './run.js';
import type { RunResult } from './result.js';
import { ComfySocket, type SocketMessage } from './socket.js';
import type {
  FileRef,
  HistoryEntry,
  PromptGraph,
  QueuePromptOptions,
  QueuePromptResponse,
  QueueState,
  UploadImageOptions,
  UploadMaskOptions,
  UploadResponse,
  ViewOptions,
} from './types.js';
import { validationErrorFromBody } from './validation.js';

export interface ClientOptions {
  /** http(s)://host:port of the ComfyUI server. */
  url: string;
  /** Sent on every HTTP call and on the WebSocket upgrade (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Shared by every run of this client; a random uuid by default. */
  clientId?: string;
  /** While the socket is down or quiet, how often waiting runs ask /queue and /history. Default 1000. */
  pollIntervalMs?: number;
  /** Socket silence after which waiting runs are polled. Default 3000. */
  quietMs?: number;
  /** A prompt pending with nothing running for this long means the worker died. Default 15000. */
  stallTimeoutMs?: number;
  /** Server unreachable for this long rejects every waiting run with ConnectionLostError. Default 10000. */
  connectionGraceMs?: number;
  /** How long run() waits for the socket before posting anyway (then it relies on polling). Default 5000. */
  connectTimeoutMs?: number;
  historyConfirmMs?: number;
  cancelConfirmMs?: number;
}

/** The default prompt's view of one ComfyUI server: typed HTTP routes plus run() over one WebSocket. */
export class ComfyClient {
  readonly url: string;
  readonly clientId: string;
  private readonly http: HttpTransport;
  private readonly runHost: RunHost;
  private readonly socket: ComfySocket;
  private readonly runs = new Map<string, ActiveRun>();
  private readonly options: Required<Omit<ClientOptions, 'url' | 'headers' | 'clientId'>>;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private unreachableSince: number | undefined;
  private queueFetch: { startedAt: number; promise: Promise<QueueState> } | undefined;
  /** The prompt of ours that runs now: type-1 previews carry no id and belong to it. */
  private runningPromptId: string | undefined;
  private closed = false;

  constructor(options: ClientOptions) {
    this.http = new HttpTransport(options.url, options.headers ?? {});
    this.url = this.http.baseUrl;
    this.clientId = options.clientId ?? randomUUID();
    this.options = {
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      quietMs: options.quietMs ?? 3000,
      stallTimeoutMs: options.stallTimeoutMs ?? 15_000,
      connectionGraceMs: options.connectionGraceMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      historyConfirmMs: options.historyConfirmMs ?? 10_000,
      cancelConfirmMs: options.cancelConfirmMs ?? 30_000,
    };
    this.runHost = {
      url: this.url,
      queuePrompt: (p, o) => this.queuePrompt(p, o),
      freshQueue: (notBefore) => this.freshQueue(notBefore),
      historyEntry: (id) => this.historyEntry(id),
      deleteQueued: (ids) => this.deleteQueued(ids),
      interrupt: (id) => this.interrupt(id),
      view: (ref) => this.view(ref),
    };
    this.socket = new ComfySocket({
      url: this.url,
      clientId: this.clientId,
      headers: this.http.headers,
      onMessage: (m) => this.onMessage(m),
      onBinary: (f) => this.onBinary(f),
      onOpen: (reconnected) => {
        // Messages sent while we were away are lost: ask the server where each run stands.
        if (reconnected) this.pollSoon();
      },
      onDown: () => this.pollSoon(),
    });
  }

  // ------------------------------------------------------------------ HTTP routes

  objectInfo(nodeClass?: string): Promise<Record<string, unknown>> {
    return this.http.json('GET', nodeClass ? `/object_info/${encodeURIComponent(nodeClass)}` : '/object_info');
  }

  systemStats(): Promise<Record<string, unknown>> {
    return this.http.json('GET', '/system_stats');
  }

  features(): Promise<Record<string, unknown>> {
    return this.http.json('GET', '/features');
  }

  embeddings(): Promise<string[]> {
    return this.http.json('GET', '/embeddings');
  }

  /** Folder keys, or the files of one folder key. */
  models(key?: string): Promise<string[]> {
    return this.http.json('GET', key ? `/models/${encodeURIComponent(key)}` : '/models');
  }

  queue(): Promise<QueueState> {
    return this.http.json('GET', '/queue');
  }

  /** All history, or `{id: entry}` / `{}` for one prompt. */
  history(promptId?: string): Promise<Record<string, HistoryEntry>> {
    return this.http.json('GET', promptId ? `/history/${encodeURIComponent(promptId)}` : '/history');
  }

  async historyEntry(promptId: string): Promise<HistoryEntry | undefined> {
    return (await this.history(promptId))[promptId];
  }

  /** POST /prompt. A 400 becomes a ValidationError naming every failing node input. */
  async queuePrompt(prompt: PromptGraph, options: QueuePromptOptions = {}): Promise<QueuePromptResponse> {
    const body: Record<string, unknown> = { prompt, client_id: this.clientId };
    if (options.extraData) body['extra_data'] = options.extraData;
    if (options.promptId) body['prompt_id'] = options.promptId;
    if (options.front) body['front'] = true;
    if (options.partialExecutionTargets) body['partial_execution_targets'] = options.partialExecutionTargets;
    const res = await this.http.send('POST', '/prompt', { json: body });
    const text = await safeText(res);
    if (res.status === 400) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      throw validationErrorFromBody(parsed, text);
    }
    if (!res.ok) throw new HttpError('POST', this.http.url('/prompt'), res.status, text);
    try {
      return JSON.parse(text) as QueuePromptResponse;
    } catch {
      throw new HttpError('POST', this.http.url('/prompt'), res.status, text, 'The answer was not JSON: check that the URL points to ComfyUI.');
    }
  }

  /** Interrupts the running prompt; with promptId only if that prompt is the one running. */
  interrupt(promptId?: string): Promise<void> {
    return this.http.post('/interrupt', promptId ? { prompt_id: promptId } : {});
  }

  /** Removes pending prompts (running ones are not affected). */
  deleteQueued(promptIds: string[]): Promise<void> {
    return this.http.post('/queue', { delete: promptIds });
  }

  clearQueue(): Promise<void> {
    return this.http.post('/queue', { clear: true });
  }

  freeMemory(options: { unloadModels?: boolean; freeMemory?: boolean } = {}): Promise<void> {
    return this.http.post('/free', { unload_models: options.unloadModels ?? true, free_memory: options.freeMemory ?? true });
  }

  uploadImage(options: UploadImageOptions): Promise<UploadResponse> {
    return this.http.json('POST', '/upload/image', { body: uploadForm(options) });
  }

  uploadMask(options: UploadMaskOptions): Promise<UploadResponse> {
    const form = uploadForm(options);
    form.set('original_ref', JSON.stringify(options.originalRef satisfies FileRef));
    return this.http.json('POST', '/upload/mask', { body: form });
  }

  async view(ref: ViewOptions): Promise<Buffer> {
    const res = await this.http.request('GET', '/view', {
      query: { filename: ref.filename, subfolder: ref.subfolder ?? '', type: ref.type ?? 'output' },
    });
    return Buffer.from(await res.arrayBuffer());
  }

  // ------------------------------------------------------------------ runs

  /**
   * Queues the prompt and resolves with its history entry once ComfyUI finished it.
   * Rejects with ValidationError, ExecutionError, InterruptedError, CancelledError,
   * RunTimeoutError, WorkerStalledError or ConnectionLostError; never hangs.
   */
  async run(prompt: PromptGraph, options: RunOptions = {}): Promise<RunResult> {
    if (this.closed) throw new ConnectorClosedError('This ComfyClient');
    if (options.signal?.aborted) throw new CancelledError(undefined, 'before-queue', options.signal.reason);
    const calledAt = Date.now();
    // The socket first, so no message of this prompt is missed.
    await this.socket.waitOpen(this.options.connectTimeoutMs);
    if (this.closed) throw new ConnectorClosedError('This ComfyClient');
    if (options.signal?.aborted) throw new CancelledError(undefined, 'before-queue', options.signal.reason);
    const promptId = randomUUID();
    const run = new ActiveRun(promptId, prompt, options, this.runHost, this.timings(), Date.now() - calledAt);
    this.runs.set(promptId, run);
    this.ensurePoller();
    void run.start();
    try {
      return await run.promise;
    } finally {
      this.runs.delete(promptId);
      if (this.runningPromptId === promptId) this.runningPromptId = undefined;
      if (this.runs.size === 0) this.stopPoller();
    }
  }

  /** Rejects every waiting run now (the managed server crashed, or we are shutting down). */
  failAll(error: unknown): void {
    for (const run of [...this.runs.values()]) run.reject(error);
  }

  /** Number of runs still waiting. */
  get activeRuns(): number {
    return this.runs.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new ConnectorClosedError('This ComfyClient'));
    this.stopPoller();
    this.socket.close();
  }

  private timings(): RunTimings {
    return {
      stallTimeoutMs: this.options.stallTimeoutMs,
      historyConfirmMs: this.options.historyConfirmMs,
      cancelConfirmMs: this.options.cancelConfirmMs,
    };
  }


  /** One /queue request shared by every caller that can use a snapshot taken after notBefore. */
  private freshQueue(notBefore: number): Promise<QueueState> {
    if (this.queueFetch && this.queueFetch.startedAt >= notBefore) return this.queueFetch.promise;
    const fetch = { startedAt: Date.now(), promise: this.queue() };
    this.queueFetch = fetch;
    fetch.promise.then(
      () => undefined,
      () => undefined,
    );
    return fetch.promise;
  }

  // ------------------------------------------------------------------ socket dispatch

  private onMessage(message: SocketMessage): void {
    const promptId = message.data['prompt_id'];
    if (typeof promptId !== 'string') return;
    if (message.type === 'execution_start') this.runningPromptId = promptId;
    else if (message.type === 'executing' && message.data['node'] === null && this.runningPromptId === promptId) this.runningPromptId = undefined;
    this.runs.get(promptId)?.handleMessage(message);
  }

  private onBinary(frame: Buffer): void {
    const decoded = decodeBinaryFrame(frame);
    // Text frames (send_progress_text) go to every socket without a prompt id: not ours to route.
    if (!decoded || decoded.kind !== 'preview') return;
    const promptId = decoded.promptId ?? this.runningPromptId;
    if (promptId) this.runs.get(promptId)?.handlePreview(decoded);
  }

  // ------------------------------------------------------------------ polling fallback

  private ensurePoller(): void {
    if (this.pollTimer) return;
    // Deliberately not unref'd: while a run waits, this timer is what keeps the process alive
    // when the server went silent, so the run can still reject instead of vanishing.
    this.pollTimer = setInterval(() => void this.pollOnce(false), Math.max(50, Math.min(this.options.pollIntervalMs, 250)));
  }

  private stopPoller(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private pollSoon(): void {
    if (this.runs.size) setTimeout(() => void this.pollOnce(true), 0);
  }

  /**
   * While the socket is down, or quiet for quietMs, waiting runs learn their state from /queue
   * and /history: a run that finished while we could not hear it still resolves, a dead worker
   * is noticed, and an unreachable server rejects every run after the grace period.
   */
  private async pollOnce(force: boolean): Promise<void> {
    if (this.polling || this.runs.size === 0) return;
    const now = Date.now();
    const quiet = !this.socket.isOpen || now - this.socket.lastMessageAt >= this.options.quietMs;
    const due = [...this.runs.values()].filter(
      (r) => r.posted && !r.settled && (force || (quiet && now - r.lastPolledAt >= (r.pollIntervalMs ?? this.options.pollIntervalMs))),
    );
    if (due.length === 0) return;
    this.polling = true;
    try {
      let queue: QueueState;
      try {
        queue = await this.freshQueue(now);
        this.unreachableSince = undefined;
      } catch (error) {
        for (const r of due) r.lastPolledAt = now;
        if (!(error instanceof ConnectionLostError)) return;
        this.unreachableSince ??= now;
        const downMs = Date.now() - this.unreachableSince;
        if (downMs >= this.options.connectionGraceMs) {
          this.failAll(new ConnectionLostError(this.url, `the server did not answer for ${Math.round(downMs / 1000)} s`, error));
        }
        return;
      }
      await Promise.all(due.map((r) => r.handleQueue(queue, Date.now())));
    } finally {
      this.polling = false;
    }
  }
}

function uploadForm(options: UploadImageOptions): FormData {
  const form = new FormData();
  const data = options.data;
  const blob = data instanceof Blob ? data : new Blob([new Uint8Array(data)]);
  form.set('image', blob, options.filename);
  form.set('type', options.type ?? 'input');
  form.set('subfolder', options.subfolder ?? '');
  form.set('overwrite', options.overwrite ? 'true' : 'false');
  return form;
}
