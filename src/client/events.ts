import type { ComfyError } from '../errors.js';

/** What a run reports while it goes, in order; `onEvent` receives them. */
export type RunEvent =
  /**
   * position 0 = next to run. It counts the pending entries of one GET /queue (made right after
   * POST /prompt, only when someone listens) that sort before ours in ComfyUI's min-heap on
   * (number, prompt_id); the running prompt is not counted. nodeErrors: the partial node_errors
   * of a 200 (outputs that failed validation and will not run), present only when non-empty.
   */
  | { type: 'queued'; promptId: string; number: number; position: number; nodeErrors?: Record<string, unknown> }
  | { type: 'started'; promptId: string }
  | { type: 'cached'; promptId: string; nodes: string[] }
  | { type: 'executing'; promptId: string; node: string; classType?: string }
  /** overall = (nodes finished + value/max of this node) / (nodes in the prompt - cached nodes), in [0,1]. */
  | { type: 'progress'; promptId: string; node: string; value: number; max: number; overall: number }
  | { type: 'executed'; promptId: string; node: string; output: unknown }
  | { type: 'preview'; promptId?: string; node?: string; mime: string; data: Buffer }
  | { type: 'success'; promptId: string }
  | { type: 'error'; promptId?: string; error: ComfyError };

export type RunEventListener = (event: RunEvent) => void;
