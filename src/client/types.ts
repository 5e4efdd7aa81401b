/** Wire shapes of ComfyUI's HTTP API, as far as the client relies on them. */

/** One node of an API-format prompt. */
export interface PromptNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}

/** An API-format prompt: node id → node. */
export type PromptGraph = Record<string, PromptNode>;

/** `[number, prompt_id, prompt, extra_data, outputs_to_execute]`, as /queue and /history list it. */
export type QueueItem = [number, string, PromptGraph, Record<string, unknown>, string[], ...unknown[]];

export interface QueueState {
  queue_running: QueueItem[];
  queue_pending: QueueItem[];
}

/** A file reference as ComfyUI puts it in a node's UI output. */
export interface FileRef {
  filename: string;
  subfolder?: string;
  type?: string;
}

export interface HistoryStatus {
  status_str: 'success' | 'error' | string;
  completed: boolean;
  messages: Array<[string, Record<string, unknown>]>;
}

/** One /history/<id> entry, as ComfyUI returns it. */
export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, Record<string, unknown>>;
  status?: HistoryStatus;
  meta?: Record<string, unknown>;
}

export interface QueuePromptOptions {
  extraData?: Record<string, unknown>;
  /** A canonical lowercase UUID; ComfyUI 0.33 rejects anything else. */
  promptId?: string;
  front?: boolean;
  /** Only these output nodes run (`partial_execution_targets`). */
  partialExecutionTargets?: string[];
}

export interface QueuePromptResponse {
  prompt_id: string;
  number: number;
  node_errors: Record<string, unknown>;
}

export interface UploadResponse {
  name: string;
  subfolder: string;
  type: string;
}

export interface UploadImageOptions {
  data: Buffer | Blob | Uint8Array;
  filename: string;
  subfolder?: string;
  type?: 'input' | 'temp' | 'output';
  overwrite?: boolean;
}

export interface UploadMaskOptions extends UploadImageOptions {
  /** The image whose alpha channel the mask replaces. */
  originalRef: FileRef;
}

export interface ViewOptions {
  filename: string;
  subfolder?: string;
  type?: string;
}
