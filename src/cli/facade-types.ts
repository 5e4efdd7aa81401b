/**
 * The facade types the CLI uses, in one place. They come from the library itself so the CLI can
 * never drift from it; this file only narrows what the CLI needs to know.
 */
export type { ComfyConnector, CreateOptions, ConnectOptions, RunWorkflowOptions } from '../connector.js';
export type { RunEvent, RunResult } from '../client/index.js';
