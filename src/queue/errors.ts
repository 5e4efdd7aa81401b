/**
 * The fleet's own errors. Their codes are registered with the failure policy here, so the CLI's exit
 * code, the queue's retry decision and the service's HTTP status cover them without errors.ts
 * knowing this room.
 */
import { ComfyError } from '../errors.js';
import { registerFailureClass } from '../error-policy.js';

/** `redis-server` is not installed (the embedded/private Redis needs it). */
export class RedisNotInstalledError extends ComfyError {
  constructor(readonly path: string) {
    super('COMFY_REDIS_NOT_INSTALLED', `redis-server was not found on PATH (${path || 'empty'}).`, {
      hint: 'Install it (Debian/Ubuntu: apt-get install -y redis-server) or pass redisServerPath; or point --redis at a Redis you run yourself.',
    });
  }
}

/** A private redis-server exited before it answered PING, or did not answer in time. */
export class RedisStartError extends ComfyError {
  constructor(readonly detail: string, readonly logTail: string[]) {
    super('COMFY_REDIS_START_FAILED', `redis-server did not start: ${detail}${logTail.length ? `\nLast log lines:\n  ${logTail.slice(-10).join('\n  ')}` : ''}`, {
      hint: 'Read the log lines; check that the data folder is writable and that the port is free.',
    });
  }
}

/** No job with this id (never submitted, or removed after its retention window). */
export class JobNotFoundError extends ComfyError {
  constructor(readonly jobId: string) {
    super('COMFY_JOB_NOT_FOUND', `No job ${jobId} on this queue.`, {
      hint: 'Check the id and the queue name (--queue); finished jobs are kept for a limited time (removeOnComplete/removeOnFail).',
    });
  }
}

/** A job id or idempotency key BullMQ cannot take as a custom id. */
export class BadJobIdError extends ComfyError {
  constructor(readonly key: string, reason: string) {
    super('COMFY_BAD_JOB_ID', `The idempotency key ${JSON.stringify(key)} cannot be used: ${reason}.`, {
      hint: 'Use 1–200 characters of letters, digits, "-", "_" or "."; not ":" and not digits only.',
    });
  }
}

/** An input given to submit is not a value the network may carry. */
export class BadJobInputError extends ComfyError {
  constructor(readonly key: string, reason: string) {
    super('COMFY_BAD_JOB_INPUT', `Input ${key}: ${reason}.`, {
      hint: 'Give an http(s) URL, a data: URL or { base64, filename }; a local file is read by the producer (submit with a Buffer, or the CLI --input KEY=FILE).',
    });
  }
}

/** The job's deadline passed (while it waited for a worker that can run it, or while it ran). */
export class DeadlineExceededError extends ComfyError {
  constructor(readonly jobId: string, readonly deadline: number, readonly missing?: string[]) {
    super(
      'COMFY_DEADLINE_EXCEEDED',
      `Job ${jobId} passed its deadline (${new Date(deadline).toISOString()})${missing?.length ? ` waiting for a worker that has ${missing.join(', ')}` : ''}.`,
      { hint: missing?.length ? 'Start a worker whose servers have what the job requires (models, node classes), or drop the requirement.' : 'Give the job a later deadline, or add workers.' },
    );
  }
}

/** The job was cancelled (by the producer, or because its lock lapsed on this worker). */
export class JobCancelledError extends ComfyError {
  constructor(readonly jobId: string, readonly reason: string) {
    super('COMFY_JOB_CANCELLED', `Job ${jobId} was cancelled: ${reason}.`);
  }
}

/** This worker lost the job's lock: another worker may have taken it; the local run is stopped. */
export class LockLostError extends ComfyError {
  constructor(readonly jobId: string) {
    super('COMFY_LOCK_LOST', `This worker lost the lock of job ${jobId}; its run here was stopped so that only one result is written.`, {
      hint: 'Keep CPU-heavy work off the worker process; a lock lapses when its event loop is blocked longer than lockDuration.',
    });
  }
}

/** The job failed on the worker; the producer rethrows the worker's error from its JSON form. */
export class JobFailedError extends ComfyError {
  constructor(readonly jobId: string, message: string) {
    super('COMFY_JOB_FAILED', `Job ${jobId} failed: ${message}`);
  }
}

/** The output store failed while a worker saved a job's outputs: retried (the store may recover). */
export class OutputStoreError extends ComfyError {
  constructor(readonly key: string, detail: string) {
    super('COMFY_OUTPUT_STORE', `Could not store output ${key}: ${detail}`, { hint: 'Check the store (folder writable, bucket reachable).' });
  }
}

/** Worker options that cannot work together (isolation 'job' with a server attached by URL). */
export class WorkerOptionsError extends ComfyError {
  constructor(detail: string, hint: string) {
    super('COMFY_WORKER_OPTIONS', detail, { hint });
  }
}

registerFailureClass('COMFY_REDIS_NOT_INSTALLED', 'server');
registerFailureClass('COMFY_REDIS_START_FAILED', 'server');
registerFailureClass('COMFY_JOB_NOT_FOUND', 'usage');
registerFailureClass('COMFY_BAD_JOB_ID', 'usage');
registerFailureClass('COMFY_BAD_JOB_INPUT', 'invalid');
registerFailureClass('COMFY_DEADLINE_EXCEEDED', 'timeout');
registerFailureClass('COMFY_JOB_CANCELLED', 'cancelled');
registerFailureClass('COMFY_LOCK_LOST', 'server');
registerFailureClass('COMFY_JOB_FAILED', 'unexpected');
registerFailureClass('COMFY_OUTPUT_STORE', 'server');
registerFailureClass('COMFY_WORKER_OPTIONS', 'usage');
