/**
 * Names in Redis. BullMQ owns `<prefix>:<queue>:…`; the fleet's own keys live under
 * `<prefix>:~<queue>:…` (queue names may not start with '~', so the two never meet).
 * A job with requirements goes to a queue of its own requirement profile, `<queue>.r-<hash>`
 * (one queue per capability, the BullMQ maintainers' answer to routing).
 */
import { createHash } from 'node:crypto';
import { BadJobIdError } from './errors.js';
import type { JobSpec } from './types.js';

export const DEFAULT_PREFIX = 'comfy';
export const DEFAULT_QUEUE = 'comfy-jobs';

export type Requirements = NonNullable<JobSpec['requires']>;

export interface FleetKeys {
  prefix: string;
  queue: string;
  events(jobId: string): string;
  seq(jobId: string): string;
  result(jobId: string): string;
  final(jobId: string): string;
  cancel(jobId: string): string;
  route(jobId: string): string;
  storeKeys(jobId: string): string;
  /** Set once the job's `completed` event is appended: one announcement per job, whoever tries. */
  announced(jobId: string): string;
  profiles: string;
  deadlines: string;
  workers: string;
  worker(id: string): string;
  wakeChannel: string;
  cancelChannel: string;
  eventChannel: string;
}

export function checkQueueName(name: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/.test(name)) {
    throw new BadJobIdError(name, 'a queue name is 1–100 letters, digits, "_", "." or "-" and starts with a letter, digit or "_"');
  }
  return name;
}

export function fleetKeys(prefix: string, queue: string): FleetKeys {
  const k = `${prefix}:~${checkQueueName(queue)}`;
  return {
    prefix,
    queue,
    events: (id) => `${k}:ev:${id}`,
    seq: (id) => `${k}:seq:${id}`,
    result: (id) => `${k}:res:${id}`,
    final: (id) => `${k}:final:${id}`,
    cancel: (id) => `${k}:cancel:${id}`,
    route: (id) => `${k}:route:${id}`,
    storeKeys: (id) => `${k}:keys:${id}`,
    announced: (id) => `${k}:announced:${id}`,
    profiles: `${k}:profiles`,
    deadlines: `${k}:deadlines`,
    workers: `${k}:workers`,
    worker: (id) => `${k}:worker:${id}`,
    wakeChannel: `${k}:wake`,
    cancelChannel: `${k}:cancel`,
    eventChannel: `${k}:events`,
  };
}

/** BullMQ takes a custom id as long as it has no ':' and is not all digits (those are its own). */
export function checkJobId(id: string): string {
  if (id.length < 1 || id.length > 200) throw new BadJobIdError(id, 'it must be 1 to 200 characters long');
  if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new BadJobIdError(id, 'only letters, digits, "-", "_" and "." are allowed (BullMQ refuses ":")');
  if (/^\d+$/.test(id)) throw new BadJobIdError(id, 'an all-digit id is reserved for BullMQ\'s own numbering');
  return id;
}

/** Requirements in one canonical order, so equal requirements give one profile. */
export function canonicalRequirements(req: Requirements | undefined): Requirements | undefined {
  if (!req) return undefined;
  const nodeClasses = [...new Set(req.nodeClasses ?? [])].sort();
  const seen = new Set<string>();
  const models = (req.models ?? [])
    .filter((m) => {
      const key = `${m.folder}/${m.name}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((m) => ({ folder: m.folder, name: m.name }))
    .sort((a, b) => `${a.folder}/${a.name}`.localeCompare(`${b.folder}/${b.name}`));
  if (!nodeClasses.length && !models.length) return undefined;
  return { ...(nodeClasses.length ? { nodeClasses } : {}), ...(models.length ? { models } : {}) };
}

export function profileId(req: Requirements): string {
  return createHash('sha256').update(JSON.stringify(req)).digest('hex').slice(0, 12);
}

/** The BullMQ queue that holds jobs with these requirements. */
export function queueFor(base: string, req: Requirements | undefined): string {
  const canonical = canonicalRequirements(req);
  return canonical ? `${base}.r-${profileId(canonical)}` : base;
}

/** What a server can run, as a worker advertises it. */
export interface Capabilities {
  nodeClasses: string[];
  /** folder → file names, as ComfyUI lists them. */
  models: Record<string, string[]>;
}

/** What of `req` these capabilities lack, as readable strings ('model checkpoints/x.safetensors'). */
export function missingRequirements(req: Requirements | undefined, caps: Capabilities): string[] {
  const missing: string[] = [];
  if (!req) return missing;
  const classes = new Set(caps.nodeClasses);
  for (const c of req.nodeClasses ?? []) if (!classes.has(c)) missing.push(`node class ${c}`);
  for (const m of req.models ?? []) {
    if (!(caps.models[m.folder] ?? []).includes(m.name)) missing.push(`model ${m.folder}/${m.name}`);
  }
  return missing;
}
