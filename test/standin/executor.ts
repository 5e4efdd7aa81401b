// The prompt worker: takes items off the queue and runs them the way execution.py does, sending the
// same WebSocket messages in the same order and writing the same history entry.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalogue } from './object-info.js';
import type { Paths } from './paths.js';
import type { Faults } from './faults.js';
import type { SocketHub } from './websocket.js';
import type { HistoryEntry, PromptQueue, QueueItem } from './queue.js';
import { implFor } from './nodes/index.js';
import { InterruptProcessingException } from './nodes/other-nodes.js';
import { NodeException, type NodeContext, type Preview } from './nodes/types.js';
import { annotated } from './nodes/image-nodes.js';
import { log } from './log.js';
import { pyRepr } from './pyrepr.js';

type Prompt = Record<string, { class_type: string; inputs: Record<string, unknown> }>;
interface CacheEntry { outputs: unknown[]; ui: Record<string, unknown> | undefined }
interface NodeProgress { value: number; max: number; state: 'running' | 'finished'; node_id: string; prompt_id: string; display_node_id: string; parent_node_id: null; real_node_id: string }

const isLink = (v: unknown): v is [string, number] => Array.isArray(v) && v.length === 2;
const now = () => Date.now();

export class Executor {
  private cache = new Map<string, CacheEntry>();
  interrupted = false;
  freeMemoryRequested = false;
  /** Set while a prompt runs: the client that owns it and the last node it entered. */
  clientId: string | null = null;
  lastNodeId: string | null = null;

  constructor(
    private readonly queue: PromptQueue,
    private readonly hub: SocketHub,
    private readonly catalogue: Catalogue,
    private readonly paths: Paths,
    private readonly faults: Faults,
    private readonly options: { disableMetadata: boolean; cacheNone: boolean },
  ) {}

  async loop(): Promise<void> {
    for (;;) {
      const [item, taskId] = await this.queue.get(() => this.faults.current.stallWorker === true);
      const started = now();
      const entry = await this.execute(item);
      this.queue.taskDone(taskId, entry);
      const clientId = (item[3].client_id as string | undefined) ?? null;
      if (clientId !== null) this.hub.send('executing', { node: null, prompt_id: item[1] }, clientId);
      this.clientId = null;
      this.lastNodeId = null;
      const secs = (now() - started) / 1000;
      log.info(`\x1b[32mPrompt executed in ${secs.toFixed(2)} seconds\x1b[0m`);
    }
  }

  private signature(prompt: Prompt, id: string, nonce: string, memo: Map<string, string>): string {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const node = prompt[id]!;
    const impl = implFor(node.class_type, 0);
    const parts: unknown[] = [node.class_type];
    for (const name of Object.keys(node.inputs).sort()) {
      const v = node.inputs[name];
      parts.push([name, isLink(v) && prompt[v[0]] ? ['link', this.signature(prompt, v[0], nonce, memo), v[1]] : v]);
    }
    // IS_CHANGED: NaN/ever-changing nodes never match; LoadImage changes with its file.
    if (impl.alwaysRerun || this.options.cacheNone) parts.push(nonce);
    if (node.class_type === 'LoadImage') {
      try {
        const a = annotated(String(node.inputs.image));
        const st = statSync(join(this.paths.input, a.name));
        parts.push(st.mtimeMs, st.size);
      } catch { /* missing file: validation already rejected it */ }
    }
    const sig = JSON.stringify(parts);
    memo.set(id, sig);
    return sig;
  }

  private async execute(item: QueueItem): Promise<HistoryEntry> {
    const [number, promptId, rawPrompt, extraData, outputs] = item;
    const prompt = rawPrompt as Prompt;
    const clientId = (extraData.client_id as string | undefined) ?? null;
    this.clientId = clientId;
    if (this.freeMemoryRequested) { this.cache.clear(); this.freeMemoryRequested = false; }
    this.interrupted = false;
    const messages: Array<[string, unknown]> = [];
    const addMessage = (event: string, data: Record<string, unknown>, broadcast: boolean) => {
      const full = { ...data, timestamp: now() };
      messages.push([event, full]);
      if (clientId !== null || broadcast) this.hub.send(event, full, clientId);
      return full;
    };
    const toClient = (event: string, data: unknown) => { if (clientId !== null) this.hub.send(event, data, clientId); };

    addMessage('execution_start', { prompt_id: promptId }, false);
    const nonce = `${promptId}:${Math.random()}`;
    const memo = new Map<string, string>();
    const sigs = new Map<string, string>();
    for (const id of Object.keys(prompt)) sigs.set(id, this.signature(prompt, id, nonce, memo));
    const isCached = (id: string) => this.cache.has(sigs.get(id)!);
    addMessage('execution_cached', { nodes: Object.keys(prompt).filter(isCached), prompt_id: promptId }, false);

    const progress = new Map<string, NodeProgress>();
    const sendProgressState = () => {
      const data = { prompt_id: promptId, nodes: Object.fromEntries([...progress].map(([k, v]) => [k, { ...v }])) };
      this.hub.send('progress_state', data, clientId);
    };
    const setProgress = (id: string, value: number, max: number, state: NodeProgress['state']) => {
      progress.set(id, { value, max, state, node_id: id, prompt_id: promptId, display_node_id: id, parent_node_id: null, real_node_id: id });
      sendProgressState();
    };
    const finishProgress = (id: string) => {
      const p = progress.get(id);
      setProgress(id, p ? p.max : 1, p ? p.max : 1, 'finished');
    };

    // comfy_execution.graph.ExecutionList, transcribed.
    const pending = new Map<string, true>();
    const blockCount = new Map<string, number>();
    const blocking = new Map<string, Set<string>>();
    const addNode = (start: string) => {
      const stack = [start];
      const links: Array<[string, string]> = [];
      while (stack.length > 0) {
        const uid = stack.pop()!;
        if (pending.has(uid)) continue;
        pending.set(uid, true);
        blockCount.set(uid, 0);
        blocking.set(uid, new Set());
        for (const v of Object.values(prompt[uid]!.inputs)) {
          if (!isLink(v)) continue;
          if (!isCached(v[0])) stack.push(v[0]);
          links.push([v[0], uid]);
        }
      }
      for (const [from, to] of links) {
        if (isCached(from)) continue;
        addNode(from);
        if (!blocking.get(from)!.has(to)) { blocking.get(from)!.add(to); blockCount.set(to, blockCount.get(to)! + 1); }
      }
    };
    for (const o of outputs) addNode(o);
    const isOutput = (id: string) => this.catalogue.get(prompt[id]!.class_type).output_node === true;
    const pick = (ready: string[]): string => {
      for (const id of ready) if (isOutput(id)) return id;
      for (const id of ready) for (const b of blocking.get(id)!) if (isOutput(b)) return id;
      for (const id of ready) for (const b of blocking.get(id)!) for (const b1 of blocking.get(b) ?? []) if (isOutput(b1)) return id;
      return ready[0]!;
    };

    const values = new Map<string, unknown[]>();
    const uiOutputs: Record<string, Record<string, unknown>> = {};
    const executed: string[] = [];
    let failure: { id: string; ex: unknown; inputs: Record<string, unknown> } | undefined;

    while (pending.size > 0) {
      const ready = [...pending.keys()].filter((id) => blockCount.get(id) === 0);
      const id = pick(ready);
      const node = prompt[id]!;
      const sig = sigs.get(id)!;
      const cached = this.cache.get(sig);
      if (cached) {
        if (cached.ui !== undefined) uiOutputs[id] = cached.ui;
        toClient('executed', { node: id, display_node: id, output: cached.ui ?? null, prompt_id: promptId });
        finishProgress(id);
        values.set(id, cached.outputs);
      } else {
        const inputs: Record<string, unknown> = {};
        try {
          setProgress(id, 0, 1, 'running');
          this.lastNodeId = id;
          toClient('executing', { node: id, display_node: id, prompt_id: promptId });
          for (const [name, v] of Object.entries(node.inputs)) {
            if (isLink(v)) inputs[name] = (values.get(v[0]) ?? this.cache.get(sigs.get(v[0])!)?.outputs)?.[v[1]] ?? null;
            else inputs[name] = v;
          }
          await this.applyFaults(node.class_type);
          if (this.interrupted) throw new InterruptProcessingException();
          const def = this.catalogue.get(node.class_type);
          const ctx = this.context(promptId, id, prompt, extraData, clientId, setProgress);
          const res = await implFor(node.class_type, def.output.length).run(inputs, ctx);
          const ui = res.ui && Object.keys(res.ui).length > 0 ? res.ui : undefined;
          if (ui) {
            uiOutputs[id] = ui;
            toClient('executed', { node: id, display_node: id, output: ui, prompt_id: promptId });
          }
          this.cache.set(sig, { outputs: res.result, ui });
          values.set(id, res.result);
          finishProgress(id);
          executed.push(id);
        } catch (ex) {
          failure = { id, ex, inputs };
          break;
        }
      }
      pending.delete(id);
      for (const b of blocking.get(id) ?? []) blockCount.set(b, blockCount.get(b)! - 1);
    }

    if (failure) {
      const { id, ex } = failure;
      const nodeType = prompt[id]!.class_type;
      if (ex instanceof InterruptProcessingException) {
        log.info('Processing interrupted');
        // As recorded: no traceback, neither on the socket nor in the history entry.
        addMessage('execution_interrupted', { prompt_id: promptId, node_id: id, node_type: nodeType, executed: [...executed] }, true);
      } else {
        const e = ex instanceof NodeException ? ex : new NodeException('Exception', String(ex));
        log.error(`!!! Exception during processing !!! ${e.message}`);
        log.error(`Traceback (most recent call last):\n  File "execution.py", line 0, in execute\n${e.exceptionType}: ${e.message}`);
        const currentInputs: Record<string, unknown> = Object.fromEntries(Object.entries(failure.inputs).map(([k, v]) => [k, [describe(v)]]));
        // ComfyUI lists the node's hidden inputs too: the prompt as Python's str(), extra_pnginfo or None.
        const hidden = (this.catalogue.get(nodeType).input as { hidden?: Record<string, string> }).hidden ?? {};
        for (const [name, kind] of Object.entries(hidden)) {
          if (kind === 'PROMPT') currentInputs[name] = [pyRepr(rawPrompt)];
          else if (kind === 'EXTRA_PNGINFO') currentInputs[name] = [(extraData as Record<string, unknown>).extra_pnginfo ?? null];
        }
        addMessage('execution_error', {
          prompt_id: promptId, node_id: id, node_type: nodeType, executed: [...executed],
          exception_message: `${e.message}\n`, exception_type: e.exceptionType,
          traceback: [`  File "execution.py", line 0, in execute\n`],
          // The output cache's node ids: every node of the prompt (a Python set, so in no fixed order).
          current_inputs: currentInputs, current_outputs: Object.keys(prompt),
        }, false);
      }
    } else {
      addMessage('execution_success', { prompt_id: promptId }, false);
    }
    // Classic cache: keep only what the current prompt used.
    const keep = new Set(sigs.values());
    for (const k of [...this.cache.keys()]) if (!keep.has(k)) this.cache.delete(k);

    const meta = Object.fromEntries(Object.keys(uiOutputs).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }]));
    return {
      prompt: [number, promptId, rawPrompt, extraData, outputs],
      outputs: uiOutputs,
      status: { status_str: failure ? 'error' : 'success', completed: !failure, messages },
      meta,
    };
  }

  private async applyFaults(classType: string): Promise<void> {
    const f = this.faults.current;
    if (f.crashOnNode === classType) {
      log.error(`[stand-in fault] crashing on ${classType}`);
      if (f.crashSignal === 'SIGKILL') process.kill(process.pid, 'SIGKILL');
      process.exit(f.crashExitCode ?? 1);
    }
    if (f.slowMs) await new Promise((r) => setTimeout(r, f.slowMs));
  }

  private context(promptId: string, nodeId: string, prompt: Prompt, extraData: Record<string, unknown>, clientId: string | null,
    setProgress: (id: string, v: number, m: number, s: 'running') => void): NodeContext {
    const check = () => { if (this.interrupted) throw new InterruptProcessingException(); };
    let lastSent = 0, lastValue = -1;
    return {
      promptId, nodeId, paths: this.paths, prompt,
      extraPnginfo: extraData.extra_pnginfo as Record<string, unknown> | undefined,
      disableMetadata: this.options.disableMetadata,
      checkInterrupt: check,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      progress: async (value, max, preview?: Preview) => {
        check();
        // The progress handler's throttle: first, last and preview-carrying updates always go out.
        const t = now();
        const due = lastValue < 0 || value >= max || preview !== undefined || (t - lastSent >= 100 && (value - lastValue) / max >= 0.005);
        if (!due) return;
        lastSent = t;
        lastValue = value;
        setProgress(nodeId, value, max, 'running');
        const meta = { node_id: nodeId, prompt_id: promptId, display_node_id: nodeId, parent_node_id: null, real_node_id: nodeId };
        if (preview) this.hub.sendPreview(preview, meta, clientId);
        this.hub.send('progress', { value, max, prompt_id: promptId, node: nodeId }, clientId);
        if (preview) this.hub.sendLegacyPreview(preview, clientId);
        await new Promise((r) => setImmediate(r));
      },
    };
  }
}

function describe(v: unknown): unknown {
  if (v && typeof v === 'object' && (v as { kind?: string }).kind === 'IMAGE') {
    const f = (v as { frames: Array<{ width: number; height: number }> }).frames;
    return `tensor of shape (${f.length}, ${f[0]?.height ?? 0}, ${f[0]?.width ?? 0}, 3)`;
  }
  return v;
}

export function readFileOrUndefined(path: string): Buffer | undefined {
  try { return readFileSync(path); } catch { return undefined; }
}
