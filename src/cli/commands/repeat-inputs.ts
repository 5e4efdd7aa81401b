/**
 * What each run of `run --repeat N` sends. ComfyUI caches a prompt it has run, so N identical
 * queues give the first outputs N times. A UI workflow therefore moves on as the frontend does after
 * each queue ("control after generate": run 1 sends the saved values, run k the workflow advanced
 * k-1 times by the modes saved beside seed/noise_seed and other controlled widgets). An API prompt
 * stores no modes: with --vary-seed every run gets random seed/noise_seed values; without it the
 * repeats are cache hits, and the user is told so once.
 */
import { readFile } from 'node:fs/promises';
import { FileNotReadableError } from '../../errors.js';
import type { ComfyConnector } from '../facade-types.js';
import {
  advanceControlWidgets,
  isUiWorkflow,
  NodeDefinitions,
  parseWorkflowInput,
  randomizeSeeds,
  type ApiPrompt,
  type UiWorkflow,
} from '../../workflow/index.js';

export type RunInput = string | UiWorkflow | ApiPrompt;

export interface RepeatPlan {
  repeat: number;
  varySeed: boolean;
  /** Told once per batch (stderr): repeats of an API prompt without --vary-seed will be cached. */
  warn: (text: string) => void;
  /** Replaces Math.random (tests). */
  random?: () => number;
}

export const CACHED_REPEAT_WARNING =
  'warning: --repeat of an API prompt sends the same prompt each time, so ComfyUI returns cached outputs; add --vary-seed for a random seed/noise_seed per run';

/** One batch's repeat logic: definitions fetched once, the cache warning given once. */
export class RepeatInputs {
  #definitions: Promise<NodeDefinitions> | undefined;
  #warned = false;

  constructor(private readonly connector: ComfyConnector, private readonly plan: RepeatPlan) {}

  /**
   * The runs of one file, asked for in order: `next()` gives the input of the following run. A
   * single plain run passes the path through unchanged, so the connector reads the file as always.
   */
  forFile(file: string): { next(): Promise<RunInput> } {
    const { repeat, varySeed } = this.plan;
    if (repeat === 1 && !varySeed) return { next: async () => file };
    let parsed: Promise<UiWorkflow | ApiPrompt> | undefined;
    let current: UiWorkflow | undefined;
    return {
      next: async () => {
        // Read once; a file that cannot be read or parsed fails each of its runs, as a plain run would.
        parsed ??= readFile(file, 'utf8').then(
          (text) => parseWorkflowInput(text),
          (error: unknown) => {
            throw FileNotReadableError.from(file, 'workflow', error);
          },
        );
        const input = await parsed;
        if (isUiWorkflow(input)) {
          // Sequential runs: each one advances the state the previous run left, as the frontend does.
          current = current === undefined ? input : advanceControlWidgets(current, await this.definitions(), this.#random());
          return current;
        }
        if (varySeed) return randomizeSeeds(input, await this.definitions(), this.#random());
        if (!this.#warned && repeat > 1) {
          this.#warned = true;
          this.plan.warn(CACHED_REPEAT_WARNING);
        }
        return input;
      },
    };
  }

  #random(): { random?: () => number } {
    return this.plan.random ? { random: this.plan.random } : {};
  }

  definitions(): Promise<NodeDefinitions> {
    if (!this.#definitions) {
      const pending = this.connector.client.objectInfo().then((info) => new NodeDefinitions(info));
      pending.catch(() => {
        if (this.#definitions === pending) this.#definitions = undefined;
      });
      this.#definitions = pending;
    }
    return this.#definitions;
  }
}
