import type { JobStatus } from '../../queue/index.js';
import { EXIT } from '../exit-codes.js';
import type { CliContext } from './context.js';
import { openQueue, type QueueFlags } from './submit.js';

export interface JobsFlags extends QueueFlags {
  cancel?: boolean;
  workers?: boolean;
  state?: string[];
  limit?: string;
  json?: boolean;
}

/**
 * `jobs`: lists the fleet's jobs; `jobs ID...` shows those; `jobs --cancel ID...` cancels them
 * (a waiting job is removed, a running one interrupted on its ComfyUI); `jobs --workers` lists
 * the live workers and their servers.
 */
export async function jobsCommand(ids: string[], flags: JobsFlags, ctx: CliContext): Promise<number> {
  const queue = await openQueue(flags, ctx.env);
  const out = (value: unknown, line: string) => ctx.stdout.write(flags.json ? `${JSON.stringify(value)}\n` : `${line}\n`);
  try {
    if (flags.workers) {
      for (const w of await queue.workers()) {
        out(w, `${w.id}${w.draining ? ' (draining)' : ''}  ${w.servers.map((s) => `${s.name}:${s.state}${s.jobId ? `(${s.jobId})` : ''}`).join(' ')}`);
      }
      return EXIT.ok;
    }
    if (flags.cancel) {
      for (const id of ids) {
        const outcome = await queue.cancel(id);
        out({ jobId: id, cancel: outcome }, `${id} ${outcome}`);
      }
      return EXIT.ok;
    }
    if (ids.length) {
      for (const id of ids) {
        const status = await queue.status(id);
        out(status, describe(status, true));
      }
      return EXIT.ok;
    }
    const states = flags.state as JobStatus['state'][] | undefined;
    for (const status of await queue.list({ ...(states?.length ? { states } : {}), limit: flags.limit ? Number(flags.limit) : 50 })) {
      out(status, describe(status, false));
    }
    return EXIT.ok;
  } finally {
    await queue.close();
  }
}

function describe(s: JobStatus, detailed: boolean): string {
  const progress = s.progress && s.state === 'active' ? ` ${Math.round(s.progress.overall * 100)}%` : '';
  let line = `${s.jobId}  ${s.state}${progress}  attempts ${s.attempts}  ${new Date(s.createdAt).toISOString()}`;
  if (detailed && s.error) line += `\n  ${s.error.code ?? 'error'}: ${s.error.message}`;
  if (detailed && s.result) for (const o of s.result.outputs) line += `\n  ${o.node} ${o.kind} ${o.stored ? o.stored.key : (o.text ?? '')}`;
  return line;
}
