/**
 * The per-job event log: a Redis stream per job whose entry ids are `<seq>-0`, so an SSE
 * Last-Event-ID or a producer that reattaches later resumes exactly after the last event it saw.
 * The seq counter and the append are one Lua script (two workers of a retried job never reuse a
 * seq); each append is announced on one pub/sub channel so followers do not poll.
 */
import type { Redis } from 'ioredis';
import type { FleetKeys } from './names.js';
import type { JobEvent } from './types.js';

/** Events kept per job (a few thousand progress events are plenty; the terminal one is last). */
export const EVENT_LOG_MAX = 2000;

const APPEND = `
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', KEYS[3], ARGV[4])
return seq`;

/** An event as written, before the log gives it its seq. */
export type JobEventBody = JobEvent extends infer E ? (E extends JobEvent ? Omit<E, 'seq' | 'at' | 'jobId'> : never) : never;

export async function appendEvent(redis: Redis, keys: FleetKeys, jobId: string, body: JobEventBody, retentionMs: number): Promise<number> {
  const stored = JSON.stringify({ ...body, at: Date.now(), jobId });
  const seq = await redis.eval(APPEND, 3, keys.events(jobId), keys.seq(jobId), keys.eventChannel, stored, String(EVENT_LOG_MAX), String(retentionMs), jobId);
  return Number(seq);
}

function parseEntries(entries: Array<[string, string[]]>): JobEvent[] {
  const events: JobEvent[] = [];
  for (const [id, fields] of entries) {
    const at = fields.indexOf('e');
    const raw = at >= 0 ? fields[at + 1] : undefined;
    if (raw === undefined) continue;
    try {
      events.push({ ...(JSON.parse(raw) as Omit<JobEvent, 'seq'>), seq: Number(id.split('-')[0]) } as JobEvent);
    } catch {
      /* a foreign entry: skip */
    }
  }
  return events;
}

/** Events with seq > fromSeq, oldest first (at most `count`). */
export async function readEvents(redis: Redis, keys: FleetKeys, jobId: string, fromSeq = 0, count = 500): Promise<JobEvent[]> {
  const entries = (await redis.xrange(keys.events(jobId), `(${fromSeq}-0`, '+', 'COUNT', count)) as Array<[string, string[]]>;
  return parseEntries(entries);
}

/** The last `count` events, oldest first. */
export async function lastEvents(redis: Redis, keys: FleetKeys, jobId: string, count = 5): Promise<JobEvent[]> {
  const entries = (await redis.xrevrange(keys.events(jobId), '+', '-', 'COUNT', count)) as Array<[string, string[]]>;
  return parseEntries(entries.reverse());
}

export function isTerminalEvent(event: JobEvent): boolean {
  return event.type === 'completed' || event.type === 'failed' || event.type === 'cancelled';
}
