// Replays one recorded scenario (test/fixtures/comfyui-0.33.0/scenarios) against a live server and
// says where the answers differ. Every step is replayed in order with the recorded clientId: HTTP
// requests are sent again (recorded prompt ids swapped for the live ones), and before each one the
// replayer waits for the WebSocket message the recording saw last before it (so "interrupt once
// progress arrived" or "queue B while A runs" happen at the same point). Compared: HTTP status,
// Content-Type (absent where the recording has none), bodies (JSON deeply, text exactly, binary by
// type, and by hash where the bytes are an upload's), and the WebSocket sequence with bodies.
// Only what legitimately differs between two runs is normalised away: ids, timestamps, tracebacks'
// text (not their presence), temp-file suffixes, and the length of progress runs (timing).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { BinaryBodyDescription, HttpStep, ScenarioFile, Step } from '../../scripts/recorder/steps.js';
import { describeHttpBody } from '../../scripts/recorder/http-body.js';
import { solidPng } from '../../scripts/recorder/png.js';
import { RecordingSocket, type Frame } from '../helpers/comfy-ws.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The recorder's upload files (scripts/recorder/scenarios.ts), rebuilt byte for byte, by hash. */
const UPLOAD_SOURCES = new Map<string, Buffer>(
  [solidPng(4, 4, [255, 0, 0, 255]), solidPng(4, 4, [0, 0, 255, 255]), solidPng(4, 4, [0, 0, 0, 128])].map((b) => [sha(b), b]),
);

const PROGRESS = new Set(['progress', 'progress_state', 'BIN1', 'BIN4']);
const TIME_KEYS = new Set(['timestamp', 'create_time', 'execution_start_time', 'execution_end_time']);

/** State that carries across scenarios replayed on one server, as in the recording. */
export class ReplayState {
  /** recorded prompt id → live prompt id */
  readonly ids = new Map<string, string>();
  /** hashes of bytes this replay uploaded: a /view of them must return the same bytes */
  readonly uploaded = new Set<string>();

  toLive(text: string): string {
    let out = text;
    for (const [rec, live] of this.ids) out = out.split(rec).join(live);
    return out;
  }

  toRecorded(text: string): string {
    let out = text;
    for (const [rec, live] of this.ids) out = out.split(live).join(rec);
    return out;
  }
}

/** A body with what legitimately differs between two runs replaced by placeholders. */
export function normaliseBody(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normaliseBody);
  if (typeof v === 'string') {
    // torch's tensor repr is real ComfyUI's; the stand-in has no tensors (it says "tensor of shape").
    if (/^tensor[( ]/.test(v)) return '<tensor>';
    // Each server runs in its own temp folder (/tmp/comfy-record-XXXX, /tmp/contract-standin-XXXX).
    return v.replace(/_temp_[a-z]{5}_/g, '_temp_xxxxx_').replace(/\/tmp\/[A-Za-z0-9._-]+/g, '<tmp>');
  }
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (TIME_KEYS.has(k) && typeof x === 'number') out[k] = '<time>';
    // A traceback's text names the server's own files and lines; whether there is one is compared.
    else if (k === 'traceback' && Array.isArray(x)) out[k] = x.length > 0 ? '<traceback>' : [];
    // ComfyUI builds current_outputs from a Python set: its order is not fixed.
    else if (k === 'current_outputs' && Array.isArray(x)) out[k] = [...x].sort();
    else if (k === 'errors' && Array.isArray(x)) {
      out[k] = (normaliseBody(x) as Array<Record<string, unknown>>).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    } else out[k] = normaliseBody(x);
  }
  return out;
}

type Token = { kind: string; body?: unknown };

function recordedTokens(steps: Step[]): Token[] {
  return steps.flatMap((st): Token[] => {
    if (st.kind === 'ws') return [{ kind: st.message.type, body: normaliseBody(st.message.data) }];
    if (st.kind === 'ws-binary') return [{ kind: `BIN${st.eventType}`, body: st.eventType === 4 ? normaliseBody(st.metadata) : undefined }];
    return [];
  });
}

function liveTokens(frames: Frame[], state: ReplayState): Token[] {
  return frames.map((f): Token => {
    if (f.kind === 'json') return { kind: f.type, body: normaliseBody(JSON.parse(state.toRecorded(JSON.stringify(f.data)))) };
    if (f.eventType !== 4) return { kind: `BIN${f.eventType}` };
    const len = f.data.readUInt32BE(4);
    return { kind: 'BIN4', body: normaliseBody(JSON.parse(state.toRecorded(f.data.subarray(8, 8 + len).toString('utf8')))) };
  });
}

/**
 * Runs of progress messages (progress, progress_state, preview frames) become the distinct kinds
 * in first-seen order: how many ticks a run has depends on timing (ComfyUI throttles progress).
 * Every other message keeps its body.
 */
export function collapseProgress(tokens: Token[]): string[] {
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => { out.push(...new Set(run)); run = []; };
  for (const t of tokens) {
    if (PROGRESS.has(t.kind)) run.push(t.kind);
    else { flush(); out.push(`${t.kind} ${JSON.stringify(t.body)}`); }
  }
  flush();
  return out;
}

/** Whether a live frame is the one a recorded message stands for (same type, prompt, node, queue). */
function sameEvent(recorded: { type: string; data: any }, live: Frame, state: ReplayState): boolean {
  if (live.kind !== 'json' || live.type !== recorded.type) return false;
  const d = recorded.data ?? {};
  const l = live.data as any;
  if (d.prompt_id !== undefined && state.toRecorded(String(l.prompt_id)) !== d.prompt_id) return false;
  if ('node' in d && recorded.type !== 'progress' && l.node !== d.node) return false;
  if (recorded.type === 'status' && l.status?.exec_info?.queue_remaining !== d.status?.exec_info?.queue_remaining) return false;
  return true;
}

async function send(url: string, st: HttpStep, state: ReplayState): Promise<{ status: number; contentType: string; bytes: Buffer }> {
  const path = state.toLive(st.path);
  const init: RequestInit = { method: st.method };
  const rb = st.requestBody as any;
  if (rb && typeof rb === 'object' && 'multipart' in rb) {
    const form = new FormData();
    for (const [key, value] of Object.entries<any>(rb.multipart)) {
      if (typeof value === 'string') { form.append(key, value); continue; }
      const bytes = UPLOAD_SOURCES.get(value.sha256);
      assert.ok(bytes, `cannot rebuild the uploaded file ${value.filename} (sha256 ${value.sha256}): add its source to UPLOAD_SOURCES`);
      state.uploaded.add(value.sha256);
      form.append(key, new Blob([new Uint8Array(bytes)], { type: value.contentType }), value.filename);
    }
    init.body = form;
  } else if (typeof rb === 'string') {
    init.body = rb;
    init.headers = { 'content-type': 'text/plain' };
  } else if (rb !== undefined) {
    init.body = state.toLive(JSON.stringify(rb));
    init.headers = { 'content-type': 'application/json' };
  }
  const r = await fetch(url + path, init);
  return { status: r.status, contentType: r.headers.get('content-type') ?? '', bytes: Buffer.from(await r.arrayBuffer()) };
}

/** Replays `s` on the server at `url`; throws an AssertionError naming the first step that differs. */
export async function replayScenario(url: string, s: ScenarioFile, state: ReplayState): Promise<void> {
  let ws = await RecordingSocket.open(url, s.clientId, s.featureFlags);
  let matched = -1; // index in ws.frames of the last frame a recorded message was matched to
  const past: Frame[] = []; // frames of sockets closed by a recorded reconnect
  const liveTexts: string[] = []; // live HTTP bodies, for temp names
  const waitForRecorded = async (message: { type: string; data: any }, at: number) => {
    const hit = await ws.waitFor((f) => ws.frames.indexOf(f) > matched && sameEvent(message, f, state), 60_000)
      .catch((e: Error) => assert.fail(`${s.name} step ${at}: never got ${message.type} ${JSON.stringify(message.data)}: ${e.message}`));
    matched = ws.frames.indexOf(hit);
  };
  try {
    let lastWs: { message: { type: string; data: any }; at: number } | undefined;
    for (const [i, st] of s.steps.entries()) {
      if (st.kind === 'ws') { lastWs = { message: st.message as { type: string; data: any }, at: i }; continue; }
      if (st.kind === 'note' && st.text.startsWith('WebSocket closed; reconnecting')) {
        if (lastWs) await waitForRecorded(lastWs.message, lastWs.at);
        lastWs = undefined;
        past.push(...ws.frames.slice(0, matched + 1));
        ws.close();
        ws = await RecordingSocket.open(url, s.clientId, s.featureFlags);
        matched = -1;
        continue;
      }
      if (st.kind !== 'http') continue;
      if (lastWs) await waitForRecorded(lastWs.message, lastWs.at);
      lastWs = undefined;
      // PreviewImage's temp names carry 5 random letters: pair recorded and live ones by first use.
      const recordedTemps = tempNames(s.steps.slice(0, i).map((x) => JSON.stringify(x)));
      const liveTemps = tempNames([...[...past, ...ws.frames].map((f) => (f.kind === 'json' ? JSON.stringify(f.data) : '')), ...liveTexts]);
      recordedTemps.forEach((r, k) => { if (liveTemps[k] && !state.ids.has(r)) state.ids.set(r, liveTemps[k]); });
      let live = await send(url, st, state);
      // The recorder polled /history/<id> (unrecorded) until the entry existed: do the same.
      for (let n = 0; /^\/history\/./.test(st.path) && JSON.stringify(st.body) !== '{}' && live.bytes.toString() === '{}' && n < 300; n++) {
        await new Promise((r) => setTimeout(r, 100));
        live = await send(url, st, state);
      }
      const where = `${s.name} step ${i}: ${st.method} ${st.path}`;
      assert.equal(live.status, st.status, `${where}: status (${live.bytes.toString().slice(0, 300)})`);
      assert.equal(live.contentType, st.contentType, `${where}: Content-Type`);
      const body = describeHttpBody(live.contentType, live.bytes);
      liveTexts.push(JSON.stringify(body));
      if (st.method === 'POST' && st.path === '/prompt' && st.status === 200) {
        state.ids.set((st.body as { prompt_id: string }).prompt_id, (body as { prompt_id: string }).prompt_id);
      }
      const recorded = st.body as BinaryBodyDescription | string | object;
      if (recorded && typeof recorded === 'object' && 'sha256' in recorded && 'length' in recorded) {
        const got = body as BinaryBodyDescription;
        assert.equal(got.contentType, recorded.contentType, `${where}: binary body type`);
        if (state.uploaded.has(recorded.sha256)) assert.equal(got.sha256, recorded.sha256, `${where}: the uploaded bytes come back unchanged`);
        assertImage(live.bytes, recorded.contentType, where);
      } else if (typeof recorded === 'string') {
        assert.equal(typeof body === 'string' ? body : JSON.stringify(body), recorded, `${where}: body`);
      } else {
        assert.deepEqual(normaliseBody(JSON.parse(state.toRecorded(JSON.stringify(body)))), normaliseBody(recorded), `${where}: body`);
      }
    }
    if (lastWs) await waitForRecorded(lastWs.message, lastWs.at);
    // Everything the socket got during the scenario is compared: an invented message fails too.
    const live = liveTokens([...past, ...ws.frames], state);
    const recorded = recordedTokens(s.steps);
    const bodies = (tokens: Token[]) => tokens.filter((t) => !PROGRESS.has(t.kind)).map((t) => `${t.kind} ${JSON.stringify(t.body)}`);
    assert.deepEqual(bodies(live), bodies(recorded), `${s.name}: WebSocket messages other than progress, with their bodies`);
    // Where progress runs fall: a status broadcast can land inside a run or not, depending on timing.
    const shape = (tokens: Token[]) => collapseProgress(tokens.filter((t) => t.kind !== 'status').map((t) => ({ kind: t.kind })));
    assert.deepEqual(shape(live), shape(recorded), `${s.name}: where progress messages and previews arrive`);
  } finally {
    ws.close();
  }
}

/** `ComfyUI_temp_abcde_` names in order of first appearance. */
function tempNames(texts: string[]): string[] {
  const seen: string[] = [];
  for (const t of texts) for (const m of t.matchAll(/ComfyUI_temp_[a-z]{5}_/g)) if (!seen.includes(m[0])) seen.push(m[0]);
  return seen;
}

/** Checks that image bytes are what their Content-Type says (the stand-in must not relabel PNG as WebP). */
function assertImage(bytes: Buffer, contentType: string, where: string): void {
  if (contentType === 'image/png') assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', `${where}: a PNG`);
  if (contentType === 'image/webp') {
    assert.equal(bytes.toString('latin1', 0, 4), 'RIFF', `${where}: a RIFF container`);
    assert.equal(bytes.toString('latin1', 8, 12), 'WEBP', `${where}: a WebP`);
  }
  if (contentType === 'image/jpeg') assert.equal(bytes.readUInt16BE(0), 0xffd8, `${where}: a JPEG`);
}
