import type { RunEvent, RunResult } from '../facade-types.js';
import { errorCode, exitCodeFor } from '../exit-codes.js';
import type { RunDisplay, RunItem, TextStream } from './display.js';

export interface JsonDisplayOptions {
  stdout: TextStream;
  stderr: TextStream;
  now?: () => number;
}

/**
 * `--json`: one JSON object per line on stdout, for programs. Each run's RunEvents as the library
 * emits them, tagged with `file` and `iteration`; previews carry their size instead of their bytes.
 * Each run ends with exactly one `{"type":"result",...}` or `{"type":"error","code",...}` line: the
 * library's own `error` event is folded into that final line rather than printed twice.
 */
export class JsonDisplay implements RunDisplay {
  readonly #out: TextStream;
  readonly #err: TextStream;
  readonly #now: () => number;
  #item: RunItem | undefined;
  #startedAt = 0;

  constructor(options: JsonDisplayOptions) {
    this.#out = options.stdout;
    this.#err = options.stderr;
    this.#now = options.now ?? Date.now;
  }

  /** Human status stays off stdout so every stdout line parses. */
  notice(text: string): void {
    this.#err.write(`${text}\n`);
  }

  begin(item: RunItem): void {
    this.#item = item;
    this.#startedAt = this.#now();
  }

  event(event: RunEvent): void {
    if (event.type === 'error') return;
    this.#emit(serializeRunEvent(event));
  }

  succeed(result: RunResult, saved: string[]): void {
    this.#emit({
      type: 'result',
      promptId: result.promptId,
      elapsedMs: this.#now() - this.#startedAt,
      saved,
      outputs: result.outputs,
      texts: result.texts,
      nodeErrors: result.nodeErrors,
    });
    this.#item = undefined;
  }

  fail(error: unknown): void {
    this.#emit(serializeError(error));
    this.#item = undefined;
  }

  fatal(error: unknown): void {
    this.#item = undefined;
    this.#emit(serializeError(error));
  }

  close(): void {}

  #emit(record: Record<string, unknown>): void {
    const tagged = this.#item ? { ...record, file: this.#item.file, iteration: this.#item.iteration } : record;
    this.#out.write(`${JSON.stringify(tagged)}\n`);
  }
}

/** A RunEvent as JSON: Buffers become their length, errors their code and message. */
export function serializeRunEvent(event: RunEvent): Record<string, unknown> {
  if (event.type === 'preview') {
    const { data, ...rest } = event;
    return { ...rest, bytes: data.length };
  }
  if (event.type === 'error') {
    const { error, ...rest } = event;
    return { ...rest, ...serializeError(error) };
  }
  return { ...event };
}

export function serializeError(error: unknown): Record<string, unknown> {
  const promptId = error && typeof error === 'object' && 'promptId' in error && typeof error.promptId === 'string' ? error.promptId : undefined;
  const nodeId = error && typeof error === 'object' && 'nodeId' in error && typeof error.nodeId === 'string' ? error.nodeId : undefined;
  return {
    type: 'error',
    code: errorCode(error) ?? null,
    exitCode: exitCodeFor(error),
    message: error instanceof Error ? error.message : String(error),
    ...(promptId !== undefined ? { promptId } : {}),
    ...(nodeId !== undefined ? { nodeId } : {}),
  };
}
