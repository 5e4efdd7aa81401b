import type { RunEvent, RunResult } from '../facade-types.js';

/** One run of one file in a batch (`run a.json b.json --repeat 3` has six). */
export interface RunItem {
  file: string;
  /** 1-based repetition of this file. */
  iteration: number;
  repeat: number;
  /** 1-based position in the whole batch, and its size. */
  index: number;
  count: number;
}

/**
 * How a batch of runs is shown. Three implementations: live (a redrawn line per run on a terminal),
 * lines (one line per step, for logs and pipes) and json (one RunEvent per line, for programs).
 * Human status goes to stderr; what a script would capture (saved paths, JSON) to stdout.
 */
export interface RunDisplay {
  /** A status line that belongs to no run ("starting ComfyUI…"). */
  notice(text: string): void;
  begin(item: RunItem): void;
  event(event: RunEvent): void;
  succeed(result: RunResult, saved: string[]): void;
  /** The current item failed; the batch goes on. */
  fail(error: unknown, logTail?: readonly string[]): void;
  /** A failure outside any item (the server did not start). */
  fatal(error: unknown, logTail?: readonly string[]): void;
  /** Stops timers and restores the terminal; safe to call twice. */
  close(): void;
}

/** A stream as the displays use it: tests pass a string collector with the same shape. */
export interface TextStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function itemLabel(item: RunItem): string {
  const counter = item.count > 1 ? `[${item.index}/${item.count}] ` : '';
  const repeat = item.repeat > 1 ? ` #${item.iteration}` : '';
  return `${counter}${item.file}${repeat}`;
}
