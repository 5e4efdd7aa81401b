import { SourceUnreachableError } from '../errors.js';

/**
 * A failure worth another attempt (reset, timeout, 5xx, 429). `final` is what the caller sees when
 * the attempts run out. `restart` asks for the next attempt to start from byte 0.
 */
export class TransientError extends Error {
  constructor(readonly final: Error, readonly restart = false) {
    super(final.message);
  }
}

/** A timer fired: no connection, or no bytes, within the limit. */
export class StallError extends Error {
  constructor(readonly phase: 'connect' | 'idle', readonly ms: number) {
    super(phase === 'connect' ? `no connection within ${ms} ms` : `no data for ${ms} ms`);
  }
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE']);

/** A Node network error (or our StallError) as a typed error naming the URL, transient or not. */
export function networkFailure(error: unknown, shown: string): Error {
  if (error instanceof TransientError) return error;
  if (error instanceof StallError) return new TransientError(new SourceUnreachableError(shown, error.message, error));
  const e = error as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  if (code === 'ENOTFOUND') return new SourceUnreachableError(shown, `the host name does not resolve (${e.message})`, error);
  if (TRANSIENT_CODES.has(code) || e?.message === 'aborted') {
    return new TransientError(new SourceUnreachableError(shown, `${code || e.message}${code === 'ECONNREFUSED' ? ' (nothing listens there)' : ''}`, error));
  }
  return error instanceof Error ? error : new Error(String(error));
}
