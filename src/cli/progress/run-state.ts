import type { RunEvent } from '../facade-types.js';

/** What a person watching one run wants to know, folded from its RunEvents. */
export interface RunState {
  phase: 'submitting' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  promptId: string | undefined;
  /** Queue position while queued; 0 = next to run. */
  position: number | undefined;
  node: string | undefined;
  classType: string | undefined;
  /** Step progress of the current node, when it reports any. */
  value: number | undefined;
  max: number | undefined;
  /** Whole prompt, in [0, 1]. */
  overall: number;
  cachedNodes: number;
  executedNodes: number;
  previews: number;
  startedAt: number;
}

export function initialRunState(now: number): RunState {
  return {
    phase: 'submitting',
    promptId: undefined,
    position: undefined,
    node: undefined,
    classType: undefined,
    value: undefined,
    max: undefined,
    overall: 0,
    cachedNodes: 0,
    executedNodes: 0,
    previews: 0,
    startedAt: now,
  };
}

/** Applies one event in place; returns whether anything a display shows changed. */
export function applyRunEvent(state: RunState, event: RunEvent): boolean {
  switch (event.type) {
    case 'queued':
      state.promptId = event.promptId;
      if (state.phase === 'submitting' || state.phase === 'queued') {
        state.phase = 'queued';
        state.position = event.position;
      }
      return true;
    case 'started':
      state.promptId = event.promptId;
      state.phase = 'running';
      state.position = undefined;
      return true;
    case 'cached':
      state.cachedNodes += event.nodes.length;
      return true;
    case 'executing':
      state.phase = 'running';
      state.position = undefined;
      if (state.node === event.node) return false;
      state.node = event.node;
      state.classType = event.classType;
      state.value = undefined;
      state.max = undefined;
      return true;
    case 'progress':
      state.phase = 'running';
      if (state.node !== event.node) {
        state.node = event.node;
        state.classType = undefined;
      }
      state.value = event.value;
      state.max = event.max;
      state.overall = Math.min(1, Math.max(state.overall, event.overall));
      return true;
    case 'executed':
      state.executedNodes += 1;
      return true;
    case 'preview':
      state.previews += 1;
      return false;
    case 'success':
      state.phase = 'done';
      state.overall = 1;
      return true;
    case 'error':
      state.phase = 'failed';
      return true;
    default:
      return false;
  }
}
