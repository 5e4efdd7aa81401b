/**
 * The per-job event log: a Redis stream per job whose entry ids are `<seq>-0`, so an SSE
 * Last-Event-ID or a producer that reattaches later resumes exactly after the last event it saw.
 * The seq counter and the append are one Lua script (two workers of a retried job never reuse a
 * seq); each append is announced on one pub/sub channel so followers do not poll. A notice is
 * `<jobId>` or, for an event up to NOTICE_EVENT_MAX_BYTES, `<jobId>\n<seq>\n<event JSON>`.
 */
import type { Redis } from 'ioredis';
import type { FleetKeys } from './names.js';
import type { JobEvent } from './types.js';

/** Events kept per job (a few thousand progress events are plenty; the terminal one is last). */
export const EVENT_LOG_MAX = 2000;

/** Events up to this size travel in their notice, so a follower need not read the log for them. */
export const NOTICE_EVENT_MAX_BYTES = 16 * 1024;

// append(log, seqKey, channel, event JSON, log max, retention ms, job id, notice max) → seq
const APPEND_FUNCTION = `
local function append(log, seqKey, channel, stored, max, retention, jobId, noticeMax)
  local seq = redis.call('INCR', seqKey)
  redis.call('XADD', log, 'MAXLEN', '~', max, seq .. '-0', 'e', stored)
  redis.call('PEXPIRE', log, retention)
  redis.call('PEXPIRE', seqKey, retention)
  if string.len(stored) <= tonumber(noticeMax) then
    redis.call('PUBLISH', channel, jobId .. '\\n' .. seq .. '\\n' .. stored)
  else
    redis.call('PUBLISH', channel, jobId)
  end
  return seq
end`;

const APPEND = `${APPEND_FUNCTION}
return append(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])`;

/**
 * A submit's first step in one round trip: the job id is claimed for its queue (SET NX: the same
 * idempotency key twice is one job) and, only when the claim is new, the 'queued' event is
 * appended with the position (BullMQ's waiting + prioritized + delayed). Returns the position, or
 * -1 when the id was claimed before.
 */
const CLAIM_AND_QUEUE = `${APPEND_FUNCTION}
if not redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[2], 'NX') then return -1 end
local position = redis.call('LLEN', KEYS[5]) + redis.call('ZCARD', KEYS[6]) + redis.call('ZCARD', KEYS[7])
local stored = cjson.encode({ type = 'queued', position = position, at = tonumber(ARGV[4]), jobId = ARGV[3] })
append(KEYS[1], KEYS[2], KEYS[3], stored, ARGV[5], ARGV[2], ARGV[3], ARGV[6])
return position`;

/** The completed event, appended only by the first caller for the job (a guard key set in the same script). */
const ANNOUNCE = `${APPEND_FUNCTION}
if not redis.call('SET', KEYS[4], '1', 'PX', ARGV[3], 'NX') then return -1 end
return append(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])`;

/**
 * Appends the job's `completed` event unless it was announced before; true when this call did.
 * A worker that re-runs a job whose last owner died after announcing, and the loser of a lapsed
 * lock, therefore cannot announce it a second time, in whatever order they get here.
 */
export async function announceCompleted(redis: Redis, keys: FleetKeys, jobId: string, body: Extract<JobEventBody, { type: 'completed' }>, retentionMs: number): Promise<boolean> {
  return (await runAppend(redis, ANNOUNCE, keys, jobId, body, retentionMs, [keys.announced(jobId)])) >= 0;
}

/** BullMQ's keys of the lists a new job waits in (Queue.keys). */
export interface WaitingKeys {
  wait: string;
  prioritized: string;
  delayed: string;
}

/** Claims `jobId` for `queueName` and logs it queued; undefined when it was claimed before. */
export async function claimAndQueue(redis: Redis, keys: FleetKeys, jobId: string, queueName: string, waiting: WaitingKeys, retentionMs: number): Promise<number | undefined> {
  const position = Number(
    await redis.eval(CLAIM_AND_QUEUE, 7, keys.events(jobId), keys.seq(jobId), keys.eventChannel, keys.route(jobId), waiting.wait, waiting.prioritized, waiting.delayed,
      queueName, String(retentionMs), jobId, String(Date.now()), String(EVENT_LOG_MAX), String(NOTICE_EVENT_MAX_BYTES)),
  );
  return position >= 0 ? position : undefined;
}

/** An event as written, before the log gives it its seq. */
export type JobEventBody = JobEvent extends infer E ? (E extends JobEvent ? Omit<E, 'seq' | 'at' | 'jobId'> : never) : never;

export function appendEvent(redis: Redis, keys: FleetKeys, jobId: string, body: JobEventBody, retentionMs: number): Promise<number> {
  return runAppend(redis, APPEND, keys, jobId, body, retentionMs);
}

/** An APPEND-shaped script (log, seq, channel[, more keys]; event, max, retention, job, notice max) → its number. */
async function runAppend(redis: Redis, script: string, keys: FleetKeys, jobId: string, body: JobEventBody, retentionMs: number, moreKeys: string[] = []): Promise<number> {
  const stored = JSON.stringify({ ...body, at: Date.now(), jobId });
  const result = await redis.eval(script, 3 + moreKeys.length, keys.events(jobId), keys.seq(jobId), keys.eventChannel, ...moreKeys, stored, String(EVENT_LOG_MAX), String(retentionMs), jobId, String(NOTICE_EVENT_MAX_BYTES));
  return Number(result);
}

/** A stored event (its JSON) with the seq its log or notice gave it. */
function eventOf(json: string, seq: number): JobEvent {
  return { ...(JSON.parse(json) as Omit<JobEvent, 'seq'>), seq } as JobEvent;
}

function parseEntries(entries: Array<[string, string[]]>): JobEvent[] {
  const events: JobEvent[] = [];
  for (const [id, fields] of entries) {
    const at = fields.indexOf('e');
    const raw = at >= 0 ? fields[at + 1] : undefined;
    if (raw === undefined) continue;
    try {
      events.push(eventOf(raw, Number(id.split('-')[0])));
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

/** A notice from the event channel: the job, and the event itself when it was small enough to travel. */
export function parseNotice(message: string): { jobId: string; event?: JobEvent } {
  const first = message.indexOf('\n');
  if (first < 0) return { jobId: message };
  const jobId = message.slice(0, first);
  const second = message.indexOf('\n', first + 1);
  try {
    const seq = Number(message.slice(first + 1, second));
    const event = eventOf(message.slice(second + 1), seq);
    return Number.isInteger(seq) && second > first ? { jobId, event } : { jobId };
  } catch {
    return { jobId };
  }
}

/**
 * One follower's view of a job's notices. take(last) answers with the events after `last` that
 * came with their notices when they are all there (seq last+1, last+2, ... without a gap); with
 * undefined when the log must be read (the first time, after a notice without its event, a gap,
 * or a wait that timed out); with [] when every notice since was for events already seen.
 */
export class EventFollow {
  #pushed: JobEvent[] = [];
  #mustRead = true;
  #wake: (() => void) | undefined;

  constructor(readonly stop: () => void) {}

  notice(event?: JobEvent): void {
    if (event) this.#pushed.push(event);
    else this.#mustRead = true;
    this.#wake?.();
  }

  take(last: number): JobEvent[] | undefined {
    const pushed = this.#pushed.filter((e) => e.seq > last).sort((a, b) => a.seq - b.seq);
    this.#pushed = [];
    if (this.#mustRead) {
      this.#mustRead = false;
      return undefined;
    }
    for (let i = 0; i < pushed.length; i++) if (pushed[i]!.seq !== last + 1 + i) return undefined;
    return pushed;
  }

  /** Until a notice (at once when one came since the last take), a timeout or the signal. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.#pushed.length || this.#mustRead || signal?.aborted) return resolve();
      const done = (timedOut: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        this.#wake = undefined;
        if (timedOut) this.#mustRead = true;
        resolve();
      };
      const aborted = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      signal?.addEventListener('abort', aborted, { once: true });
      this.#wake = () => done(false);
    });
  }
}
