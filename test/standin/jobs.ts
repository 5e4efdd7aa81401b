// GET /api/jobs and /api/jobs/{id}: the jobs view over queue + history (registered only under
// /api, as in ComfyUI). Covers the fields the frontend's queue panel reads.
import type { HistoryEntry, PromptQueue, QueueItem } from './queue.js';
import type { Reply } from './http-routes.js';

const STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'];

function fromQueue(item: QueueItem, status: 'pending' | 'in_progress'): Record<string, unknown> {
  const extra = item[3] as { create_time?: number; extra_pnginfo?: { workflow?: { id?: unknown } } };
  const job: Record<string, unknown> = { id: item[1], status, priority: item[0], create_time: extra.create_time, outputs_count: 0 };
  if (extra.extra_pnginfo?.workflow?.id !== undefined) job.workflow_id = extra.extra_pnginfo.workflow.id;
  return job;
}

function fromHistory(id: string, e: HistoryEntry, full: boolean): Record<string, unknown> {
  const msgs = e.status.messages;
  const ts = (name: string) => (msgs.find(([n]) => n === name)?.[1] as { timestamp?: number } | undefined)?.timestamp;
  const end = msgs.at(-1);
  const status = e.status.status_str === 'success' ? 'completed' : msgs.some(([n]) => n === 'execution_interrupted') ? 'cancelled' : 'failed';
  const extra = e.prompt[3] as { create_time?: number; extra_pnginfo?: { workflow?: { id?: unknown } } };
  const files: Array<Record<string, unknown>> = [];
  for (const [nodeId, ui] of Object.entries(e.outputs)) {
    for (const [mediaType, list] of Object.entries(ui as Record<string, unknown>)) {
      if (!Array.isArray(list)) continue;
      for (const f of list) if (f && typeof f === 'object' && 'filename' in f) files.push({ ...(f as object), nodeId, mediaType });
    }
  }
  const job: Record<string, unknown> = {
    id, status, priority: e.prompt[0], create_time: extra.create_time,
    execution_start_time: ts('execution_start'), execution_end_time: end?.[1] && (end[1] as { timestamp?: number }).timestamp,
    outputs_count: files.length, previewable_outputs_count: files.length,
  };
  if (files[0]) job.preview_output = files[0];
  if (status === 'failed' && end?.[0] === 'execution_error') job.execution_error = end[1];
  if (extra.extra_pnginfo?.workflow?.id !== undefined) job.workflow_id = extra.extra_pnginfo.workflow.id;
  if (full) Object.assign(job, { outputs: e.outputs, execution_status: e.status, workflow: { prompt: e.prompt[2], extra_data: e.prompt[3] } });
  return Object.fromEntries(Object.entries(job).filter(([, v]) => v !== undefined && v !== null));
}

export function jobsRoute(queue: PromptQueue, path: string, query: URLSearchParams): Reply | undefined {
  if (path === '/api/jobs') {
    const wanted = query.get('status')?.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = wanted?.filter((s) => !STATUSES.includes(s)) ?? [];
    if (bad.length) return { status: 400, json: { error: `Invalid status value(s): ${bad.join(', ')}. Valid values: ${STATUSES.join(', ')}` } };
    let jobs = [
      ...[...queue.running.values()].map((i) => fromQueue(i, 'in_progress')),
      ...queue.heap.map((i) => fromQueue(i, 'pending')),
      ...[...queue.history].map(([id, e]) => fromHistory(id, e, false)),
    ];
    if (wanted?.length) jobs = jobs.filter((j) => wanted.includes(j.status as string));
    const wf = query.get('workflow_id');
    if (wf !== null) jobs = jobs.filter((j) => j.workflow_id === wf);
    const key = query.get('sort_by') === 'execution_duration' ? (j: Record<string, unknown>) => ((j.execution_end_time as number) ?? 0) - ((j.execution_start_time as number) ?? 0) : (j: Record<string, unknown>) => (j.create_time as number) ?? 0;
    const dir = query.get('sort_order') === 'asc' ? 1 : -1;
    jobs.sort((a, b) => dir * (key(a) - key(b)));
    const limitRaw = query.get('limit');
    const limit = limitRaw === null ? null : Number(limitRaw);
    if (limit !== null && (!Number.isInteger(limit) || limit <= 0)) return { status: 400, json: { error: 'limit must be a positive integer' } };
    const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
    const page = jobs.slice(offset, limit === null ? undefined : offset + limit);
    return { json: { jobs: page, pagination: { offset, limit, total: jobs.length, has_more: offset + page.length < jobs.length } } };
  }
  const one = /^\/api\/jobs\/([^/]+)$/.exec(path);
  if (one) {
    const id = decodeURIComponent(one[1]!);
    const h = queue.history.get(id);
    if (h) return { json: fromHistory(id, h, true) };
    const r = [...queue.running.values()].find((i) => i[1] === id);
    if (r) return { json: fromQueue(r, 'in_progress') };
    const p = queue.heap.find((i) => i[1] === id);
    if (p) return { json: fromQueue(p, 'pending') };
    return { status: 404, json: { error: 'Job not found' } };
  }
  return undefined;
}
