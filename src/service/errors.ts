import { ComfyError } from '../errors.js';
import { registerFailureClass } from '../error-policy.js';

/**
 * The service's own refusals. Each carries the HTTP status it answers with (the failure policy
 * decides the status of every other error) and a stable code that callers match on.
 */
export class ApiError extends ComfyError {
  constructor(
    code: string,
    readonly status: number,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(code, message, options);
  }
}

/** A request field is malformed: names the field (a JSON pointer such as `/inputs/LoadImage.image`). */
export class BadRequestError extends ApiError {
  constructor(message: string, readonly fields: Array<{ field: string; message: string }> = [], hint?: string) {
    super('COMFY_API_BAD_REQUEST', 400, message, hint ? { hint } : {});
  }
}

export class UnauthorizedError extends ApiError {
  constructor(detail: string) {
    super('COMFY_API_UNAUTHORIZED', 401, detail, { hint: 'Send "Authorization: Bearer <key>" with a key the service was started with (--api-key or COMFY_CONNECTOR_API_KEYS).' });
  }
}

export class ForbiddenError extends ApiError {
  constructor(detail: string) {
    super('COMFY_API_FORBIDDEN', 403, detail, { hint: 'Use a key with the admin scope ("name:key:admin" in --api-key).' });
  }
}

/** Unknown job, or a job of another key's owner (the two are indistinguishable on purpose). */
export class JobNotFoundError extends ApiError {
  constructor(readonly jobId: string) {
    super('COMFY_API_JOB_NOT_FOUND', 404, `No job ${jobId} is visible to this key.`, { hint: 'Check the id; jobs are kept for a limited time after they finish, and a key sees only its own jobs.' });
  }
}

export class RouteNotFoundError extends ApiError {
  constructor(method: string, url: string) {
    super('COMFY_API_ROUTE_NOT_FOUND', 404, `There is no route ${method} ${url.split('?')[0]}.`, { hint: 'The routes are listed at /docs.' });
  }
}

export class IdempotencyConflictError extends ApiError {
  constructor(readonly key: string, readonly jobId: string) {
    super('COMFY_API_IDEMPOTENCY_CONFLICT', 409, `The Idempotency-Key "${key}" was already used for job ${jobId} with a different request body.`, {
      hint: 'Send the same body to get the same job back, or use a new key for a new job.',
    });
  }
}

export class JobFinishedError extends ApiError {
  constructor(readonly jobId: string, state: string) {
    super('COMFY_API_JOB_FINISHED', 409, `Job ${jobId} is already ${state}; there is nothing to cancel.`);
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(limitBytes: number, what = 'The request body') {
    super('COMFY_API_TOO_LARGE', 413, `${what} is larger than the limit of ${limitBytes} bytes.`, {
      hint: 'Pass large inputs by URL (http(s):// or s3://) instead of base64, or raise --body-limit.',
    });
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  constructor(type: string | undefined) {
    super('COMFY_API_UNSUPPORTED_MEDIA_TYPE', 415, `Content-Type ${type ?? '(none)'} is not accepted here.`, { hint: 'Send application/json (or multipart/form-data to POST /v1/jobs).' });
  }
}

export class NotReadyError extends ApiError {
  constructor(reason: string) {
    super('COMFY_API_NOT_READY', 503, `The service is not ready: ${reason}`, { hint: 'Retry later; /ready answers 200 once it is.' });
  }
}

export class RateLimitedError extends ApiError {
  constructor(depth: number, limit: number) {
    super('COMFY_API_QUEUE_FULL', 503, `The queue holds ${depth} waiting jobs, the limit is ${limit}.`, { hint: 'Retry later, or add workers.' });
  }
}

registerFailureClass('COMFY_API_BAD_REQUEST', 'usage');
registerFailureClass('COMFY_API_UNAUTHORIZED', 'usage');
registerFailureClass('COMFY_API_FORBIDDEN', 'usage');
registerFailureClass('COMFY_API_JOB_NOT_FOUND', 'usage');
registerFailureClass('COMFY_API_ROUTE_NOT_FOUND', 'usage');
registerFailureClass('COMFY_API_IDEMPOTENCY_CONFLICT', 'usage');
registerFailureClass('COMFY_API_JOB_FINISHED', 'usage');
registerFailureClass('COMFY_API_TOO_LARGE', 'usage');
registerFailureClass('COMFY_API_UNSUPPORTED_MEDIA_TYPE', 'usage');
registerFailureClass('COMFY_API_NOT_READY', 'server');
registerFailureClass('COMFY_API_QUEUE_FULL', 'server');
