/**
 * A tiny in-process ComfyUI look-alike for client tests that need faults real ComfyUI cannot be
 * asked for (a dead worker, sockets cut after N messages) and for many fast runs. It speaks just
 * enough of the protocol: POST /prompt, GET /queue, POST /queue, POST /interrupt, GET /history/<id>,
 * GET /view, /ws with per-client messages. Nodes "run" for `slowMs` each; output nodes are those
 * whose class starts with "Save" or "Preview" and yield one image named after the prompt id.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FakeFaults {
  slowMs?: number;
  /** Close every socket after this many more messages were sent (once). */
  dropSocketsAfterMessages?: number;
  /** The worker takes nothing from the queue: prompts stay pending forever. */
  stallWorker?: boolean;
}

interface Item {
  number: number;
  id: string;
  prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  extra: Record<string, unknown>;
  clientId: string | undefined;
}

export interface FakeComfy {
  url: string;
  faults: FakeFaults;
  /** Every socket's clientId seen connecting, in order. */
  connections: string[];
  close(): Promise<void>;
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const isOutput = (classType: string) => /^(Save|Preview)/.test(classType);

export async function startFakeComfy(faults: FakeFaults = {}): Promise<FakeComfy> {
  const sockets = new Map<string, WebSocket>();
  const connections: string[] = [];
  const pending: Item[] = [];
  let running: Item | undefined;
  let interruptFlag = false;
  let counter = 0;
  const history = new Map<string, unknown>();

  const send = (clientId: string | undefined, type: string, data: unknown) => {
    const targets = clientId === undefined ? [...sockets.values()] : [sockets.get(clientId)].filter((s): s is WebSocket => !!s);
    for (const ws of targets) ws.send(JSON.stringify({ type, data }));
    if (faults.dropSocketsAfterMessages !== undefined && targets.length) {
      faults.dropSocketsAfterMessages -= 1;
      if (faults.dropSocketsAfterMessages <= 0) {
        delete faults.dropSocketsAfterMessages;
        for (const ws of sockets.values()) ws.terminate();
      }
    }
  };
  const status = () => send(undefined, 'status', { status: { exec_info: { queue_remaining: pending.length + (running ? 1 : 0) } } });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const work = async () => {
    if (running || faults.stallWorker) return;
    pending.sort((a, b) => a.number - b.number);
    const item = pending.shift();
    if (!item) return;
    running = item;
    interruptFlag = false;
    status();
    const c = item.clientId;
    const messages: Array<[string, unknown]> = [];
    const start = { prompt_id: item.id, timestamp: Date.now() };
    messages.push(['execution_start', start]);
    send(c, 'execution_start', start);
    send(c, 'execution_cached', { nodes: [], prompt_id: item.id, timestamp: Date.now() });
    const outputs: Record<string, unknown> = {};
    let outcome: 'success' | 'error' = 'success';
    for (const [node, def] of Object.entries(item.prompt)) {
      send(c, 'executing', { node, display_node: node, prompt_id: item.id });
      await sleep(faults.slowMs ?? 0);
      if (interruptFlag) {
        const data = { prompt_id: item.id, node_id: node, node_type: def.class_type, executed: [], timestamp: Date.now() };
        messages.push(['execution_interrupted', data]);
        send(c, 'execution_interrupted', data);
        outcome = 'error';
        break;
      }
      if (isOutput(def.class_type)) {
        const ui = { images: [{ filename: `${item.id}.png`, subfolder: '', type: 'output' }] };
        outputs[node] = ui;
        send(c, 'executed', { node, display_node: node, output: ui, prompt_id: item.id });
      }
    }
    history.set(item.id, {
      prompt: [item.number, item.id, item.prompt, item.extra, Object.keys(outputs)],
      outputs,
      status: { status_str: outcome, completed: outcome === 'success', messages },
      meta: {},
    });
    running = undefined;
    if (outcome === 'success') send(c, 'execution_success', { prompt_id: item.id, timestamp: Date.now() });
    status();
    send(c, 'executing', { node: null, prompt_id: item.id });
    setImmediate(() => void work());
  };

  const body = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(value === undefined ? '' : JSON.stringify(value));
  };
  const queueItem = (i: Item) => [i.number, i.id, i.prompt, i.extra, []];

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/api/, '');
    if (req.method === 'POST' && path === '/prompt') {
      const b = await body(req);
      const prompt = b['prompt'] as Item['prompt'];
      const bad = Object.entries(prompt).find(([, n]) => n.class_type === 'Invalid');
      if (bad) {
        json(res, 400, {
          error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
          node_errors: { [bad[0]]: { class_type: 'Invalid', dependent_outputs: [], errors: [{ type: 'value_bigger_than_max', message: 'too big', details: 'x', extra_info: { input_name: 'x', received_value: 1 } }] } },
        });
        return;
      }
      const id = typeof b['prompt_id'] === 'string' ? b['prompt_id'] : randomUUID();
      const clientId = typeof b['client_id'] === 'string' ? b['client_id'] : undefined;
      const item: Item = { number: counter++, id, prompt, extra: { ...(b['extra_data'] as object), client_id: clientId }, clientId };
      pending.push(item);
      status();
      json(res, 200, { prompt_id: id, number: item.number, node_errors: {} });
      setImmediate(() => void work());
      return;
    }
    if (req.method === 'GET' && path === '/queue') {
      json(res, 200, { queue_running: running ? [queueItem(running)] : [], queue_pending: pending.map(queueItem) });
      return;
    }
    if (req.method === 'POST' && path === '/queue') {
      const b = await body(req);
      const ids = Array.isArray(b['delete']) ? (b['delete'] as string[]) : [];
      for (const id of ids) {
        const i = pending.findIndex((p) => p.id === id);
        if (i >= 0) pending.splice(i, 1);
      }
      if (b['clear']) pending.length = 0;
      status();
      json(res, 200, undefined);
      return;
    }
    if (req.method === 'POST' && path === '/interrupt') {
      const b = await body(req).catch(() => ({}) as Record<string, unknown>);
      if (!b['prompt_id'] || b['prompt_id'] === running?.id) interruptFlag = true;
      json(res, 200, undefined);
      return;
    }
    const historyMatch = /^\/history\/(.+)$/.exec(path);
    if (req.method === 'GET' && historyMatch) {
      const id = decodeURIComponent(historyMatch[1] ?? '');
      json(res, 200, history.has(id) ? { [id]: history.get(id) } : {});
      return;
    }
    if (req.method === 'GET' && path === '/view') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(Buffer.concat([PNG, Buffer.from(url.searchParams.get('filename') ?? '')]));
      return;
    }
    const fixed: Record<string, unknown> = {
      '/system_stats': { system: { comfyui_version: 'fake', os: 'posix', python_version: '3', embedded_python: false }, devices: [] },
      '/features': { supports_preview_metadata: true },
      '/object_info': {},
      '/embeddings': [],
      '/extensions': [],
      '/models': ['checkpoints'],
      '/settings': {},
      '/users': { storage: 'server', migrated: true },
    };
    if (req.method === 'GET' && path === '/prompt') {
      json(res, 200, { exec_info: { queue_remaining: pending.length + (running ? 1 : 0) } });
      return;
    }
    if (req.method === 'GET' && path.startsWith('/object_info/')) {
      json(res, 200, {});
      return;
    }
    if (req.method === 'GET' && path in fixed) {
      json(res, 200, fixed[path]);
      return;
    }
    json(res, 404, { error: 'not found' });
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.replace(/^\/api/, '') !== '/ws') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const clientId = url.searchParams.get('clientId') || randomUUID();
      connections.push(clientId);
      sockets.set(clientId, ws);
      ws.on('close', () => {
        if (sockets.get(clientId) === ws) sockets.delete(clientId);
      });
      ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: pending.length } }, sid: clientId } }));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    connections,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
