export { ComfyClient, type ClientOptions } from './client.js';
export type { RunEvent, RunEventListener } from './events.js';
export type { RunOptions } from './run.js';
export { collectOutputs, safeFileName, type OutputFile, type OutputKind, type RunResult } from './result.js';
export { decodeBinaryFrame, type BinaryFrame, type PreviewFrame, type TextFrame } from './frames.js';
export { nodeIssues, validationErrorFromBody } from './validation.js';
export type * from './types.js';
