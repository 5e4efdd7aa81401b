// Replays the scenarios recorded from real ComfyUI (test/fixtures/comfyui-0.33.0/scenarios) against
// the stand-in: the same POST /prompt bodies must get the same status and body, and a queued prompt
// must produce the same WebSocket message sequence (progress runs compared as runs, since the
// real progress throttle depends on timing).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStandin, type StartedTarget } from '../helpers/targets.js';
import { postJson, RecordingSocket, type Frame } from '../helpers/comfy-ws.js';

const DIR = fileURLToPath(new URL('../fixtures/comfyui-0.33.0/', import.meta.url));
const meta = existsSync(join(DIR, 'meta.json')) ? (JSON.parse(readFileSync(join(DIR, 'meta.json'), 'utf8')) as { scenarios: string[] }) : undefined;

interface Step { kind: string; method?: string; path?: string; requestBody?: any; status?: number; body?: any; message?: { type: string; data: any }; eventType?: number }
interface Scenario { name: string; featureFlags: boolean; steps: Step[] }

const load = (name: string) => JSON.parse(readFileSync(join(DIR, 'scenarios', `${name}.json`), 'utf8')) as Scenario;
const PROGRESS = new Set(['progress', 'progress_state', 'BIN1', 'BIN4']);

/** Types in order; each run of progress-ish tokens becomes its distinct tokens in first-seen order. */
function normalize(tokens: string[]): string[] {
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => { out.push(...new Set(run)); run = []; };
  for (const t of tokens) {
    if (PROGRESS.has(t)) run.push(t);
    else { flush(); out.push(t); }
  }
  flush();
  return out;
}

/** Bodies compared without what legitimately differs: tracebacks, ids, numbers, error order. */
function normalizeBody(v: any): any {
  if (Array.isArray(v)) return v.map(normalizeBody);
  if (!v || typeof v !== 'object') return v;
  const out: any = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'traceback' || k === 'prompt_id' || k === 'number') continue;
    out[k] = k === 'errors' && Array.isArray(x) ? normalizeBody(x).sort((a: any, b: any) => String(a.type + a.details).localeCompare(String(b.type + b.details))) : normalizeBody(x);
  }
  return out;
}

/** Recorded WS tokens of the first prompt of a scenario: from after its POST to its executing null. */
function recordedRun(s: Scenario, promptIndex = 0): string[] | undefined {
  const posts = s.steps.map((st, i) => [st, i] as const).filter(([st]) => st.kind === 'http' && st.path === '/prompt' && st.method === 'POST' && st.status === 200);
  const post = posts[promptIndex];
  if (!post) return undefined;
  const id = post[0].body.prompt_id;
  const tokens: string[] = [];
  for (const st of s.steps) {
    if (st.kind === 'ws' && st.message) {
      const m = st.message;
      if (m.type === 'status' && m.data.sid) continue;
      if (m.type === 'feature_flags') continue;
      if (m.type !== 'status' && m.data?.prompt_id !== id) continue;
      tokens.push(m.type);
      if (m.type === 'executing' && m.data.node === null) break;
    } else if (st.kind === 'ws-binary') tokens.push(`BIN${st.eventType}`);
  }
  return tokens;
}

function liveRun(frames: Frame[], from: number, id: string): string[] {
  const tokens: string[] = [];
  for (const f of frames.slice(from)) {
    if (f.kind === 'binary') { tokens.push(`BIN${f.eventType}`); continue; }
    if (f.type !== 'status' && f.data.prompt_id !== id) continue;
    tokens.push(f.type);
    if (f.type === 'executing' && f.data.node === null) break;
  }
  return tokens;
}

const RUN_SCENARIOS = ['normal-save-image', 'progress-vae-tiled', 'cached-rerun', 'previews-binary-type1', 'previews-binary-type4', 'node-raises-core', 'node-raises-test-node', 'partial-node-errors'];

describe('stand-in replays the recorded ComfyUI scenarios', { skip: meta ? undefined : 'no recorded fixtures in test/fixtures/comfyui-0.33.0', concurrency: 1 }, () => {
  let t: StartedTarget;
  before(async () => { t = await startStandin({ extraArgs: ['--preview-method', 'none'] }); });
  after(async () => { await t?.stop(); });

  for (const name of (meta?.scenarios ?? []).filter((n) => n.startsWith('validation-'))) {
    test(`${name}: same status and body`, async () => {
      const s = load(name);
      for (const st of s.steps.filter((x) => x.kind === 'http' && x.path === '/prompt' && x.method === 'POST')) {
        // A string requestBody was sent as raw text (the malformed-body cases).
        const res = await fetch(`${t.url}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof st.requestBody === 'string' ? st.requestBody : JSON.stringify(st.requestBody) });
        const text = await res.text();
        assert.equal(res.status, st.status, text);
        if (typeof st.body === 'string') assert.equal(text, st.body);
        else assert.deepEqual(normalizeBody(JSON.parse(text)), normalizeBody(st.body));
      }
    });
  }

  for (const name of RUN_SCENARIOS.filter((n) => meta?.scenarios.includes(n))) {
    test(`${name}: same WebSocket message sequence`, async () => {
      const s = load(name);
      const expected = recordedRun(s);
      assert.ok(expected, 'scenario queues a prompt');
      const post = s.steps.find((st) => st.kind === 'http' && st.path === '/prompt' && st.status === 200)!;
      const clientId = `replay-${name}`;
      const ws = await RecordingSocket.open(t.url, clientId, s.featureFlags);
      try {
        // Match the recording's cache state: start empty when nothing was cached there; otherwise rely
        // on the scenario recorded just before (replayed just before here, in meta.json order).
        const cached = s.steps.find((st) => st.kind === 'ws' && st.message?.type === 'execution_cached')?.message?.data.nodes as unknown[] | undefined;
        if (!cached?.length) await postJson(`${t.url}/free`, { free_memory: true });
        const from = ws.frames.length;
        const r = await postJson(`${t.url}/prompt`, { ...post.requestBody, client_id: clientId });
        assert.equal(r.status, 200);
        assert.deepEqual(normalizeBody(r.body.node_errors), normalizeBody(post.body.node_errors));
        await ws.waitDone(r.body.prompt_id);
        assert.deepEqual(normalize(liveRun(ws.frames, from, r.body.prompt_id)), normalize(expected));
      } finally {
        ws.close();
      }
    });
  }

  test('no-client-id: an observer socket sees only status, progress and type-1 previews', { skip: meta?.scenarios.includes('no-client-id') ? undefined : 'not recorded' }, async () => {
    const s = load('no-client-id');
    const postIndex = s.steps.findIndex((st) => st.kind === 'http' && st.path === '/prompt');
    const expected = s.steps.slice(postIndex).flatMap((st) => (st.kind === 'ws' ? [st.message!.type] : st.kind === 'ws-binary' ? [`BIN${st.eventType}`] : []));
    const ws = await RecordingSocket.open(t.url, 'observer-no-client-id', s.featureFlags);
    try {
      await postJson(`${t.url}/free`, { free_memory: true });
      const from = ws.frames.length;
      const r = await postJson(`${t.url}/prompt`, s.steps[postIndex]!.requestBody);
      assert.equal(r.status, 200);
      await ws.waitFor((f) => f.kind === 'json' && f.type === 'status' && (f.data.status as any).exec_info.queue_remaining === 0 && ws.frames.indexOf(f) > from + 1);
      const got = ws.frames.slice(from).map((f) => (f.kind === 'binary' ? `BIN${f.eventType}` : f.type));
      assert.deepEqual(normalize(got), normalize(expected));
    } finally {
      ws.close();
    }
  });
});
