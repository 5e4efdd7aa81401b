import { failurePolicy, serializeError, type ErrorJson } from '../error-policy.js';
import { ApiError, BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js';

/** RFC 9457 problem details, with our stable code and the typed error's fields as extensions. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string | null;
  hint?: string;
  /** 400: each malformed field, as a JSON pointer into the request. */
  errors?: Array<{ field: string; message: string }>;
  /** 422: each node, input and received value ComfyUI refused. */
  issues?: unknown[];
  jobId?: string;
  nodeId?: string;
  classType?: string;
  details?: Record<string, unknown>;
}

export const PROBLEM_TYPE = 'application/problem+json';

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
  413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content',
  500: 'Internal Server Error', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

function typeUri(code: string | null): string {
  return code ? `urn:comfy-connector:error:${code}` : 'about:blank';
}

/** Fastify's own request errors, as our typed refusals. */
function fromFastify(error: Record<string, unknown>): ApiError | undefined {
  const code = typeof error['code'] === 'string' ? error['code'] : '';
  const message = typeof error['message'] === 'string' ? error['message'] : String(error);
  if (Array.isArray(error['validation'])) {
    const where = typeof error['validationContext'] === 'string' ? error['validationContext'] : 'body';
    const fields = (error['validation'] as Array<Record<string, unknown>>).map((v) => {
      const path = String(v['instancePath'] ?? '');
      return { field: `/${where}${path === '/' ? '' : path}`, message: String(v['message'] ?? 'invalid') };
    });
    const names = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
    return new BadRequestError(`The request is malformed: ${names}`, fields);
  }
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new PayloadTooLargeError(Number(error['limit'] ?? 0) || 0, code.startsWith('FST_ERR') ? 'The request body' : 'A multipart part or the number of parts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(undefined);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new BadRequestError('The body is empty but Content-Type says JSON.', [{ field: '/body', message: 'empty' }]);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new BadRequestError(`The body is not valid JSON: ${message}`, [{ field: '/body', message: 'not valid JSON' }], 'Send a JSON object; check quoting and trailing commas.');
  }
  // Fastify's JSON parser reports a SyntaxError with statusCode 400.
  if (error instanceof SyntaxError || (error['statusCode'] === 400 && /JSON/i.test(message))) {
    return new BadRequestError(`The body is not valid JSON: ${message}`, [{ field: '/body', message: 'not valid JSON' }], 'Send a JSON object; check quoting and trailing commas.');
  }
  return undefined;
}

/** Any thrown value → the status and problem document a caller gets. Never leaks server log lines. */
export function toProblem(error: unknown, instance?: string): Problem {
  const typed = error instanceof ApiError ? error : (error && typeof error === 'object' ? fromFastify(error as Record<string, unknown>) : undefined);
  if (typed) {
    const json = serializeError(typed);
    const p: Problem = { type: typeUri(typed.code), title: TITLES[typed.status] ?? 'Error', status: typed.status, detail: json.message, code: typed.code };
    if (json.hint) p.hint = json.hint;
    if (typed instanceof BadRequestError && typed.fields.length) p.errors = typed.fields;
    if ('jobId' in typed && typeof typed.jobId === 'string') p.jobId = typed.jobId;
    if (instance) p.instance = instance;
    return p;
  }
  return problemFromJson(serializeError(error), failurePolicy(error).httpStatus, instance);
}

/** A job's failure (as stored in Redis) as the problem document of the request that waited for it. */
export function problemFromJson(json: ErrorJson, status: number, instance?: string, jobId?: string): Problem {
  const p: Problem = { type: typeUri(json.code), title: TITLES[status] ?? 'Error', status, detail: json.message, code: json.code };
  if (json.hint) p.hint = json.hint;
  if (json.nodeId) p.nodeId = json.nodeId;
  if (json.classType) p.classType = json.classType;
  const { issues, ...rest } = json.details ?? {};
  if (Array.isArray(issues)) p.issues = issues;
  if (Object.keys(rest).length) p.details = rest;
  if (jobId) p.jobId = jobId;
  if (instance) p.instance = instance;
  // A 500 is ours, not the caller's: say so without internals.
  if (status >= 500 && json.code === null) p.detail = 'An unexpected error occurred; the operator finds it in the service log.';
  return p;
}
