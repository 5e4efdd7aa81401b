// What a stand-in node implementation sees and returns.
import type { RawImage } from '../png.js';
import type { Paths } from '../paths.js';

/** An IMAGE value: a batch of 8-bit frames (ComfyUI uses float tensors; bytes are enough here). */
export interface ImageBatch { kind: 'IMAGE'; frames: RawImage[] }

export interface Preview { format: 'JPEG' | 'PNG'; data: Buffer }

export interface NodeContext {
  promptId: string;
  nodeId: string;
  paths: Paths;
  prompt: Record<string, unknown>;
  extraPnginfo: Record<string, unknown> | undefined;
  disableMetadata: boolean;
  /** ProgressBar.update_absolute: checks the interrupt flag, then reports (and previews). */
  progress(value: number, max: number, preview?: Preview): Promise<void>;
  /** throw_exception_if_processing_interrupted */
  checkInterrupt(): void;
  sleep(ms: number): Promise<void>;
}

export interface NodeResult { result: unknown[]; ui?: Record<string, unknown> }

/** A Python exception as execution_error reports it. */
export class NodeException extends Error {
  constructor(readonly exceptionType: string, message: string) { super(message); }
}

export interface NodeImpl {
  run(inputs: Record<string, unknown>, ctx: NodeContext): Promise<NodeResult>;
  /** VALIDATE_INPUTS: the inputs it takes over (their type/min/max/list checks are skipped). */
  validate?: { inputs: string[]; check(inputs: Record<string, unknown>, paths: Paths): true | string };
  /** IS_CHANGED returns NaN or a fresh value: never served from cache. */
  alwaysRerun?: boolean;
}
