import type { RunEvent, RunResult } from '../facade-types.js';
import type { Palette } from '../color.js';
import { formatError, isCancellation } from '../format-error.js';
import { itemLabel, type RunDisplay, type RunItem, type TextStream } from './display.js';
import { applyRunEvent, initialRunState, type RunState } from './run-state.js';
import { formatDuration, formatNode, formatPercent, plural } from './format.js';

export interface LineDisplayOptions {
  stdout: TextStream;
  stderr: TextStream;
  colors: Palette;
  verbose?: boolean;
  now?: () => number;
}

/**
 * Plain lines, for logs, CI and pipes: one line when something changes, never a control code
 * beyond colour. Step progress is printed at each quarter so a 1000-step node stays readable.
 */
export class LineDisplay implements RunDisplay {
  readonly #out: TextStream;
  readonly #err: TextStream;
  readonly #c: Palette;
  readonly #verbose: boolean;
  readonly #now: () => number;
  #item: RunItem | undefined;
  #state: RunState | undefined;
  #lastQuarter = new Map<string, number>();

  constructor(options: LineDisplayOptions) {
    this.#out = options.stdout;
    this.#err = options.stderr;
    this.#c = options.colors;
    this.#verbose = options.verbose ?? false;
    this.#now = options.now ?? Date.now;
  }

  notice(text: string): void {
    this.#err.write(`${this.#c.dim(text)}\n`);
  }

  begin(item: RunItem): void {
    this.#item = item;
    this.#state = initialRunState(this.#now());
    this.#lastQuarter.clear();
    this.#say(this.#c.dim('submitting'));
  }

  event(event: RunEvent): void {
    const state = this.#state;
    if (!state) return;
    const wasNode = state.node;
    if (!applyRunEvent(state, event)) return;
    switch (event.type) {
      case 'queued':
        this.#say(`queued as prompt ${event.promptId} (position ${event.position})`);
        break;
      case 'started':
        this.#say('started');
        break;
      case 'cached':
        if (event.nodes.length) this.#say(this.#c.dim(`${plural(event.nodes.length, 'node')} cached`));
        break;
      case 'executing':
        this.#say(formatNode(event.node, event.classType));
        break;
      case 'progress': {
        // Only at 0, 25, 50, 75, 100 % of a node's steps (and when a new node starts reporting).
        const quarter = event.max > 0 ? Math.floor((event.value / event.max) * 4) : 4;
        const key = event.node;
        if (wasNode === event.node && this.#lastQuarter.get(key) === quarter) break;
        this.#lastQuarter.set(key, quarter);
        this.#say(`${formatNode(state.node, state.classType)} ${event.value}/${event.max} (overall ${formatPercent(state.overall)})`);
        break;
      }
      default:
        break;
    }
  }

  succeed(result: RunResult, saved: string[]): void {
    const elapsed = this.#state ? this.#now() - this.#state.startedAt : 0;
    this.#say(`${this.#c.green('done')} in ${formatDuration(elapsed)}, ${plural(saved.length, 'file')} saved (prompt ${result.promptId})`);
    for (const path of saved) this.#out.write(`${path}\n`);
    this.#item = undefined;
  }

  fail(error: unknown, logTail?: readonly string[]): void {
    if (isCancellation(error)) {
      this.#say('cancelled');
      this.#item = undefined;
      return;
    }
    const label = this.#item ? itemLabel(this.#item) : undefined;
    this.#err.write(`${formatError(error, this.#c, { ...(label ? { label } : {}), ...(logTail ? { logTail } : {}), verbose: this.#verbose })}\n`);
    this.#item = undefined;
  }

  fatal(error: unknown, logTail?: readonly string[]): void {
    this.#item = undefined;
    this.fail(error, logTail);
  }

  close(): void {}

  #say(text: string): void {
    const label = this.#item ? `${this.#c.bold(itemLabel(this.#item))}: ` : '';
    this.#err.write(`${label}${text}\n`);
  }
}
