import {
  CancelledError,
  ComfyError,
  ConnectionLostError,
  RunTimeoutError,
  WorkerStalledError,
} from '../errors.js';
import type { RunEvent, RunEventListener } from './events.js';
import { executionErrorFrom, interruptedFrom, outcomeError, outcomeFromHistory, type Outcome } from './outcome.js';
import { buildRunResult, type RunResult } from './result.js';
import type { SocketMessage } from './socket.js';
import type { PreviewFrame } from './frames.js';
import type { HistoryEntry, PromptGraph, QueuePromptOptions, QueuePromptResponse, QueueState, ViewOptions } from './types.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunOptions {
  extraData?: Record<string, unknown>;
  /** Milliseconds from the call until the run is cancelled on the server and rejects with RunTimeoutError. */
  timeout?: number;
  signal?: AbortSignal;
  onEvent?: RunEventListener;
  /** false: no 'queued' event, and no GET /queue to place the prompt (see RunWorkflowOptions). */
  queuePosition?: boolean;
  /** How often a run whose socket is down or quiet asks /queue and /history (default: the client's). */
  pollIntervalMs?: number;
  front?: boolean;
}

/** What a run needs from its client. */
export interface RunHost {
  readonly url: string;
  queuePrompt(prompt: PromptGraph, options: QueuePromptOptions): Promise<QueuePromptResponse>;
  /** A /queue snapshot taken no earlier than notBefore (shared between runs). */
  freshQueue(notBefore: number): Promise<QueueState>;
  historyEntry(promptId: string): Promise<HistoryEntry | undefined>;
  deleteQueued(ids: string[]): Promise<void>;
  interrupt(promptId?: string): Promise<void>;
  view(ref: ViewOptions): Promise<Buffer>;
}

export interface RunTimings {
  stallTimeoutMs: number;
  /** How long a terminal message may wait for its history entry before giving up. */
  historyConfirmMs: number;
  /** How long a cancel waits for ComfyUI to confirm before rejecting anyway. */
  cancelConfirmMs: number;
}

type CancelReason = 'signal' | 'timeout';

/**
 * One prompt from POST /prompt to its history entry. The client routes this prompt's socket
 * messages here (handleMessage), and polls for it (handleQueue) when the socket is down or quiet.
 * It settles exactly once; every path ends in resolve or reject.
 */
export class ActiveRun {
  readonly promise: Promise<RunResult>;
  number = 0;
  nodeErrors: Record<string, unknown> = {};
  started = false;
  settled = false;
  posted = false;
  lastPolledAt = 0;

  private resolveFn!: (r: RunResult) => void;
  private rejectFn!: (e: unknown) => void;
  /** Messages that arrived before the 'queued' event went out, replayed in order after it. */
  private buffered: Array<SocketMessage | PreviewFrame> | undefined = [];
  private outcome: Outcome | undefined;
  private confirming = false;
  private endedSeen = false;
  private endedWaiter: (() => void) | undefined;
  private cancelling: CancelReason | undefined;
  private cancelStage: 'queued' | 'running' = 'queued';
  private cachedNodes = new Set<string>();
  private doneNodes = new Set<string>();
  private currentNode: string | undefined;
  private stalledSince: number | undefined;
  private missingCount = 0;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => void this.cancel('signal');
  private readonly totalNodes: number;

  constructor(
    readonly promptId: string,
    private readonly prompt: PromptGraph,
    private readonly options: RunOptions,
    private readonly host: RunHost,
    private readonly timings: RunTimings,
    /** Time already spent before this run existed (waiting for the socket); counts against timeout. */
    spentMs = 0,
  ) {
    this.totalNodes = Object.keys(prompt).length;
    this.promise = new Promise<RunResult>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    if (options.timeout !== undefined && options.timeout > 0) {
      this.timeoutTimer = setTimeout(() => void this.cancel('timeout'), Math.max(0, options.timeout - spentMs));
    }
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get pollIntervalMs(): number | undefined {
    return this.options.pollIntervalMs;
  }

  /** Posts the prompt; socket messages may already be arriving (the prompt id is ours). */
  async start(): Promise<void> {
    let response: QueuePromptResponse;
    const postOptions: QueuePromptOptions = { promptId: this.promptId };
    if (this.options.extraData) postOptions.extraData = this.options.extraData;
    if (this.options.front) postOptions.front = true;
    try {
      response = await this.host.queuePrompt(this.prompt, postOptions);
    } catch (error) {
      this.reject(error);
      return;
    }
    this.posted = true;
    this.number = response.number;
    this.nodeErrors = response.node_errors && typeof response.node_errors === 'object' ? response.node_errors : {};
    if (this.settled) return;
    if (this.cancelling) {
      void this.cancel(this.cancelling, true);
      return;
    }
    await this.emitQueued();
    const buffered = this.buffered ?? [];
    this.buffered = undefined;
    for (const item of buffered) {
      if ('kind' in item) this.handlePreview(item);
      else this.handleMessage(item);
    }
  }

  private async emitQueued(): Promise<void> {
    if (!this.options.onEvent || this.options.queuePosition === false) return;
    let position = 0;
    const postedAt = Date.now();
    const alreadyStarted = this.buffered?.some((m) => 'type' in m && m.type === 'execution_start');
    if (!alreadyStarted) {
      try {
        const queue = await this.host.freshQueue(postedAt);
        position = queue.queue_pending.filter((item) => item[0] < this.number || (item[0] === this.number && item[1] < this.promptId)).length;
      } catch {
        // Position is informative only; the run goes on without it.
      }
    }
    const event: RunEvent = { type: 'queued', promptId: this.promptId, number: this.number, position };
    if (Object.keys(this.nodeErrors).length) event.nodeErrors = this.nodeErrors;
    this.emit(event);
  }

  handleMessage(message: SocketMessage): void {
    if (this.settled) return;
    if (this.buffered) {
      this.buffered.push(message);
      return;
    }
    const data = message.data;
    switch (message.type) {
      case 'execution_start':
        this.markStarted();
        break;
      case 'execution_cached': {
        const nodes = Array.isArray(data['nodes']) ? data['nodes'].map(String) : [];
        for (const n of nodes) this.cachedNodes.add(n);
        this.markStarted();
        this.emit({ type: 'cached', promptId: this.promptId, nodes });
        break;
      }
      case 'executing': {
        const node = data['node'];
        if (node === null || node === undefined) {
          this.endedSeen = true;
          this.endedWaiter?.();
          // The history entry is written just before this message: poll it now if the
          // terminal message was lost.
          if (!this.outcome) void this.checkHistory();
          break;
        }
        this.markStarted();
        // display_node is the id the prompt knows when a node was expanded from a subgraph.
        const id = typeof data['display_node'] === 'string' ? data['display_node'] : String(node);
        if (this.currentNode && this.currentNode !== id) this.doneNodes.add(this.currentNode);
        this.currentNode = id;
        const classType = this.prompt[id]?.class_type;
        this.emit(classType ? { type: 'executing', promptId: this.promptId, node: id, classType } : { type: 'executing', promptId: this.promptId, node: id });
        break;
      }
      case 'progress': {
        const value = Number(data['value']) || 0;
        const max = Number(data['max']) || 1;
        const node = String(data['node'] ?? this.currentNode ?? '');
        this.emit({ type: 'progress', promptId: this.promptId, node, value, max, overall: this.overall(node, value / max) });
        break;
      }
      case 'executed': {
        const node = String(data['node'] ?? '');
        if (!this.cachedNodes.has(node)) this.doneNodes.add(node);
        this.emit({ type: 'executed', promptId: this.promptId, node, output: data['output'] ?? null });
        break;
      }
      case 'execution_success':
        this.setOutcome({ kind: 'success' });
        break;
      case 'execution_error':
        // ExecutionBlocked is not recorded in history and execution goes on.
        if (data['exception_type'] === 'ExecutionBlocked') break;
        this.setOutcome({ kind: 'error', error: executionErrorFrom(this.promptId, data) });
        break;
      case 'execution_interrupted':
        this.setOutcome(interruptedFrom(data));
        break;
      default:
        break;
    }
  }

  handlePreview(frame: PreviewFrame): void {
    if (this.settled) return;
    if (this.buffered) {
      this.buffered.push(frame);
      return;
    }
    const event: RunEvent = { type: 'preview', promptId: this.promptId, mime: frame.mime, data: frame.data };
    const node = frame.node ?? this.currentNode;
    if (node !== undefined) event.node = node;
    this.emit(event);
  }

  /** Called by the client's poller with a fresh /queue snapshot when the socket is down or quiet. */
  async handleQueue(queue: QueueState, now: number): Promise<void> {
    if (this.settled || !this.posted || this.outcome) return;
    this.lastPolledAt = now;
    const running = queue.queue_running.some((item) => item[1] === this.promptId);
    const pending = queue.queue_pending.some((item) => item[1] === this.promptId);
    if (running) {
      this.stalledSince = undefined;
      this.missingCount = 0;
      return;
    }
    if (pending) {
      this.missingCount = 0;
      if (queue.queue_running.length > 0) {
        this.stalledSince = undefined;
        return;
      }
      // Nothing runs while we wait: either the worker is between two prompts, or it died.
      this.stalledSince ??= now;
      const stalledMs = now - this.stalledSince;
      if (stalledMs >= this.timings.stallTimeoutMs) this.reject(new WorkerStalledError(stalledMs));
      return;
    }
    this.stalledSince = undefined;
    await this.checkHistory();
  }

  /** The prompt left the queue: its history entry says how it ended. */
  private async checkHistory(): Promise<void> {
    if (this.settled || this.outcome) return;
    let entry: HistoryEntry | undefined;
    try {
      entry = await this.host.historyEntry(this.promptId);
    } catch {
      return; // the poller's own /queue call tracks reachability
    }
    if (this.settled || this.outcome) return;
    if (entry && (entry.status?.completed !== false || entry.status?.status_str === 'error')) {
      this.endedSeen = true;
      this.setOutcome(outcomeFromHistory(this.promptId, entry), entry);
      return;
    }
    // Neither queued nor in history: deleted by someone else, or the server restarted.
    if (++this.missingCount >= 2) {
      this.setOutcome({ kind: 'interrupted', nodeId: undefined, classType: undefined });
    }
  }

  private markStarted(): void {
    if (this.started) return;
    this.started = true;
    this.stalledSince = undefined;
    this.emit({ type: 'started', promptId: this.promptId });
  }

  private overall(node: string, fraction: number): number {
    const toRun = Math.max(1, this.totalNodes - this.cachedNodes.size);
    const done = this.doneNodes.size - (this.doneNodes.has(node) ? 1 : 0);
    return Math.min(1, Math.max(0, (done + Math.min(1, Math.max(0, fraction))) / toRun));
  }

  private setOutcome(outcome: Outcome, entry?: HistoryEntry): void {
    if (this.outcome || this.settled) return;
    this.outcome = outcome;
    if (this.cancelling) {
      this.reject(this.cancelError());
      return;
    }
    if (outcome.kind === 'success') this.emit({ type: 'success', promptId: this.promptId });
    void this.confirm(outcome, entry);
  }

  /** Completion is authoritative only once the history entry is there. */
  private async confirm(outcome: Outcome, entry: HistoryEntry | undefined): Promise<void> {
    if (this.confirming) return;
    this.confirming = true;
    const error = outcomeError(this.promptId, outcome);
    if (!entry) {
      // The entry is written just before `executing {node: null}`; wait for that briefly.
      if (!this.endedSeen) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 250);
          this.endedWaiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.endedWaiter = undefined;
      }
      const deadline = Date.now() + this.timings.historyConfirmMs;
      for (let delay = 0; !this.settled; delay = Math.min(Math.max(delay * 2, 25), 500)) {
        if (delay) await sleep(delay);
        if (this.settled) return;
        try {
          entry = await this.host.historyEntry(this.promptId);
        } catch {
          entry = undefined;
        }
        if (entry || Date.now() >= deadline) break;
      }
    }
    if (this.settled) return;
    if (error) {
      this.reject(error);
      return;
    }
    if (!entry) {
      this.reject(new ConnectionLostError(this.host.url, `prompt ${this.promptId} reported success but /history/${this.promptId} stayed empty for ${this.timings.historyConfirmMs} ms`));
      return;
    }
    this.resolve(buildRunResult(this.promptId, entry, this.nodeErrors, (ref) => this.host.view(ref)));
  }

  /**
   * Removes our prompt from the server: delete it while pending, interrupt it while running,
   * and reject once /queue (or an execution_interrupted message) shows it gone.
   */
  async cancel(reason: CancelReason, force = false): Promise<void> {
    if (this.settled || (this.cancelling && !force)) return;
    this.cancelling ??= reason;
    this.cancelStage = this.started ? 'running' : 'queued';
    if (!this.posted) return; // start() resumes the cancel once the POST answered
    if (this.outcome) {
      this.reject(this.cancelError());
      return;
    }
    const deadline = Date.now() + this.timings.cancelConfirmMs;
    while (!this.settled && Date.now() < deadline) {
      let queue: QueueState;
      try {
        queue = await this.host.freshQueue(Date.now());
      } catch {
        await sleep(200);
        continue;
      }
      if (this.settled) return;
      try {
        if (queue.queue_pending.some((i) => i[1] === this.promptId)) {
          await this.host.deleteQueued([this.promptId]);
          continue;
        }
        if (queue.queue_running.some((i) => i[1] === this.promptId)) {
          this.cancelStage = 'running';
          await this.host.interrupt(this.promptId);
          await sleep(250);
          continue;
        }
      } catch {
        await sleep(200);
        continue;
      }
      break; // gone from the queue: ComfyUI confirmed
    }
    this.reject(this.cancelError());
  }

  private cancelError(): ComfyError {
    return this.cancelling === 'timeout'
      ? new RunTimeoutError(this.promptId, this.options.timeout ?? 0)
      : new CancelledError(this.promptId, this.cancelStage, this.options.signal?.reason);
  }

  /** Rejects now, whatever the state (failAll, stall, connection lost). */
  reject(error: unknown): void {
    if (this.settled) return;
    if (error instanceof ComfyError) this.emit({ type: 'error', promptId: this.promptId, error });
    this.settle();
    this.rejectFn(error);
  }

  private resolve(result: RunResult): void {
    if (this.settled) return;
    this.settle();
    this.resolveFn(result);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timeoutTimer);
    this.endedWaiter?.();
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }

  private emit(event: RunEvent): void {
    if (this.settled && event.type !== 'error') return;
    try {
      this.options.onEvent?.(event);
    } catch {
      // A throwing listener must not break the run.
    }
  }
}
