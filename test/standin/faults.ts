// Test-only fault injection (stand-in only; real ComfyUI has no such thing). Set at start with
// COMFY_STANDIN_FAULTS='{"slowMs":50}' or at run time with POST /__standin/faults.
export interface FaultConfig {
  /** Extra delay before every node runs. */
  slowMs?: number;
  /** Class name: the process dies when a node of this class starts (exit code `crashExitCode`, default 1; or `crashSignal`: "SIGKILL"). */
  crashOnNode?: string;
  crashExitCode?: number;
  crashSignal?: 'SIGKILL';
  /** Close every WebSocket after it has been sent this many messages. */
  dropSocketsAfterMessages?: number;
  /** Keep accepting prompts but stop draining the queue (ComfyUI's dead worker thread). */
  stallWorker?: boolean;
}

export class Faults {
  current: FaultConfig = {};
  constructor(initial?: string) {
    if (initial) this.current = Faults.parse(JSON.parse(initial));
  }
  static parse(v: unknown): FaultConfig {
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('faults must be a JSON object');
    return v as FaultConfig;
  }
}
