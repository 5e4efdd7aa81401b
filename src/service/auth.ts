import { createHash, timingSafeEqual } from 'node:crypto';
import { ForbiddenError, UnauthorizedError } from './errors.js';

/** One API key. `name` scopes jobs: a key sees, follows and cancels only jobs submitted under its name. */
export interface ApiKey {
  name: string;
  key: string;
  /** Sees every job, the dashboard and the metrics. */
  admin: boolean;
}

export interface Caller {
  name: string;
  admin: boolean;
}

export const ANONYMOUS: Caller = { name: 'anonymous', admin: true };

/**
 * `--api-key` values and COMFY_CONNECTOR_API_KEYS entries (comma-separated): `KEY` alone (owner
 * "default", admin), `NAME:KEY` (a scoped caller) or `NAME:KEY:admin`.
 */
export function parseApiKeys(specs: readonly string[]): ApiKey[] {
  const keys: ApiKey[] = [];
  for (const raw of specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const parts = raw.split(':');
    if (parts.length === 1) keys.push({ name: 'default', key: parts[0]!, admin: true });
    else if (parts.length === 2 || (parts.length === 3 && parts[2] === 'admin')) {
      keys.push({ name: parts[0]!, key: parts[1]!, admin: parts[2] === 'admin' });
    } else throw new Error(`An API key must be KEY, NAME:KEY or NAME:KEY:admin (got ${parts.length} ":"-separated parts; the key itself is not shown).`);
  }
  for (const k of keys) {
    if (k.key.length < 16) throw new Error(`The API key of "${k.name}" is shorter than 16 characters; use a long random one (openssl rand -hex 32).`);
    if (!/^[A-Za-z0-9._-]+$/.test(k.name)) throw new Error(`API key owner names use letters, digits, ".", "_" and "-" (got "${k.name}").`);
  }
  return keys;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Checks bearer tokens in constant time: every key is compared, the same way, whatever matches. */
export class Authenticator {
  readonly #keys: Array<{ digest: Buffer; caller: Caller }>;
  readonly enabled: boolean;

  constructor(keys: readonly ApiKey[] | 'disabled') {
    this.enabled = keys !== 'disabled';
    this.#keys = keys === 'disabled' ? [] : keys.map((k) => ({ digest: digest(k.key), caller: { name: k.name, admin: k.admin } }));
  }

  /** The caller an Authorization header names; throws 401 when there is none or it is wrong. */
  authenticate(header: string | undefined): Caller {
    if (!this.enabled) return ANONYMOUS;
    if (!header) throw new UnauthorizedError('This route needs an API key.');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new UnauthorizedError('The Authorization header must be "Bearer <key>".');
    const presented = digest(m[1]!);
    let found: Caller | undefined;
    for (const k of this.#keys) {
      if (timingSafeEqual(presented, k.digest) && !found) found = k.caller;
    }
    if (!found) throw new UnauthorizedError('The API key is not valid.');
    return found;
  }

  requireAdmin(caller: Caller, what: string): void {
    if (!caller.admin) throw new ForbiddenError(`${what} needs an admin key; the key of "${caller.name}" is scoped to its own jobs.`);
  }
}

/** May this caller see a job submitted under `owner`? */
export function canSee(caller: Caller, owner: string | undefined): boolean {
  return caller.admin || owner === caller.name;
}
