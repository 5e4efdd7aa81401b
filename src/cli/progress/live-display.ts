import cliProgress from 'cli-progress';
import type { RunEvent, RunResult } from '../facade-types.js';
import type { Palette } from '../color.js';
import { formatError, isCancellation } from '../format-error.js';
import { itemLabel, type RunDisplay, type RunItem, type TextStream } from './display.js';
import { applyRunEvent, initialRunState, type RunState } from './run-state.js';
import { fitWidth, formatDuration, formatElapsed, formatNode, formatPercent, plural } from './format.js';

export interface LiveDisplayOptions {
  /** The terminal the live line is drawn on (stderr, so stdout stays for saved paths). */
  stderr: TextStream;
  stdout: TextStream;
  colors: Palette;
  verbose?: boolean;
  now?: () => number;
}

const BAR_WIDTH = 20;

/**
 * The live view on a terminal: one line per run, redrawn in place by cli-progress (which also
 * throttles redraws and hides the cursor), showing the current node, its step bar, the overall
 * progress, the queue position while queued, and the elapsed time. When a run ends its line stays
 * as a one-line summary and the saved paths follow on stdout.
 */
export class LiveDisplay implements RunDisplay {
  readonly #out: TextStream;
  readonly #err: TextStream;
  readonly #c: Palette;
  readonly #verbose: boolean;
  readonly #now: () => number;
  #bar: cliProgress.SingleBar | undefined;
  #item: RunItem | undefined;
  #state: RunState | undefined;

  constructor(options: LiveDisplayOptions) {
    this.#out = options.stdout;
    this.#err = options.stderr;
    this.#c = options.colors;
    this.#verbose = options.verbose ?? false;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A line written while the live line is drawn would be overwritten by its next redraw: the live
   * line is finished as it stands, the notice goes below it, and a new live line follows.
   */
  notice(text: string): void {
    const drawing = this.#bar !== undefined;
    this.#stopBar();
    this.#err.write(`${this.#c.dim(text)}\n`);
    if (drawing) this.#startBar();
  }

  begin(item: RunItem): void {
    this.#stopBar();
    this.#item = item;
    this.#state = initialRunState(this.#now());
    this.#startBar();
  }

  #startBar(): void {
    const item = this.#item;
    const state = this.#state;
    if (!item || !state) return;
    this.#bar = new cliProgress.SingleBar({
      stream: this.#err as NodeJS.WritableStream,
      hideCursor: true,
      // Autowrap off while drawing: cli-progress's own fallback cuts by string length, escape codes included.
      linewrap: false,
      fps: 8,
      // The line is ours entirely: cli-progress draws, throttles and keeps the cursor in place.
      format: (_options, params) => renderLiveLine(item, state, this.#now(), params.maxWidth, this.#c),
    });
    this.#bar.start(state.max ?? 1, state.value ?? 0);
  }

  event(event: RunEvent): void {
    const state = this.#state;
    const bar = this.#bar;
    if (!state || !bar) return;
    if (!applyRunEvent(state, event)) return;
    if (state.max !== undefined) bar.setTotal(state.max);
    bar.update(state.value ?? 0);
  }

  succeed(result: RunResult, saved: string[]): void {
    if (this.#state) this.#state.phase = 'done';
    const state = this.#state;
    this.#stopBar();
    const elapsed = state ? this.#now() - state.startedAt : 0;
    this.#err.write(`  ${this.#c.dim(`${plural(saved.length, 'file')} saved in ${formatDuration(elapsed)} (prompt ${result.promptId})`)}\n`);
    for (const path of saved) this.#out.write(`${path}\n`);
    this.#item = undefined;
  }

  fail(error: unknown, logTail?: readonly string[]): void {
    const cancelled = isCancellation(error);
    if (this.#state) this.#state.phase = cancelled ? 'cancelled' : 'failed';
    this.#stopBar();
    // Our own Ctrl-C is not a failure to explain: the ✖ line says it.
    if (!cancelled) this.#err.write(`${formatError(error, this.#c, { ...(logTail ? { logTail } : {}), verbose: this.#verbose })}\n`);
    this.#item = undefined;
  }

  fatal(error: unknown, logTail?: readonly string[]): void {
    this.fail(error, logTail);
  }

  close(): void {
    this.#stopBar();
  }

  #stopBar(): void {
    const bar = this.#bar;
    this.#bar = undefined;
    bar?.stop();
  }
}

/**
 * One live line, most important first so a narrow terminal loses only the tail:
 * `▶ wf.json  0:12  ████████░░░░░░░░░░░░ 8/20  overall 45%  node 3 (KSampler)`.
 */
export function renderLiveLine(item: RunItem, state: RunState, now: number, width: number | undefined, c: Palette): string {
  // A shorter bar before cutting text: the node's class says more than ten cells of bar.
  const full = renderWithBar(item, state, now, width, c, BAR_WIDTH);
  if (!full.endsWith('…')) return full;
  return renderWithBar(item, state, now, width, c, BAR_WIDTH / 2);
}

function renderWithBar(item: RunItem, state: RunState, now: number, width: number | undefined, c: Palette, barWidth: number): string {
  const label = itemLabel(item);
  const elapsed = formatElapsed(now - state.startedAt);
  let icon = '▶';
  let plain: string[];
  let bar = '';
  switch (state.phase) {
    case 'submitting':
      plain = ['submitting…'];
      break;
    case 'queued':
      plain = [state.position === undefined || state.position === 0 ? 'queued, next to run' : `queued, position ${state.position}`];
      break;
    case 'done':
      icon = '✔';
      plain = ['done'];
      break;
    case 'cancelled':
      icon = '✖';
      plain = ['cancelled'];
      break;
    case 'failed':
      icon = '✖';
      plain = [`failed${state.node !== undefined ? ` at ${formatNode(state.node, state.classType)}` : ''}`];
      break;
    default: {
      const fraction = state.max ? Math.min(1, (state.value ?? 0) / state.max) : 0;
      const filled = Math.round(fraction * barWidth);
      bar = '█'.repeat(filled) + '░'.repeat(barWidth - filled);
      const steps = state.max ? `${state.value ?? 0}/${state.max}` : '–';
      plain = [steps, `overall ${formatPercent(state.overall)}`, formatNode(state.node, state.classType) || 'starting'];
    }
  }
  const parts = [`${icon} ${label}`, elapsed, ...(bar ? [bar] : []), ...plain.filter(Boolean)];
  const line = parts.join('  ');
  const fitted = fitWidth(line, width);
  // Colour only a line that fits whole: cutting through an escape sequence would garble the terminal.
  if (fitted !== line || !c.enabled) return fitted;
  const painted = parts.map((part) => {
    if (part === bar) return c.cyan(part);
    if (part === elapsed) return c.dim(part);
    if (part.startsWith('✔')) return c.green(part);
    if (part.startsWith('✖')) return c.red(part);
    return part;
  });
  return painted.join('  ');
}
