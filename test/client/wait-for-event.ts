import type { RunEvent } from '../../src/client/index.js';

/** Resolves once a run has emitted an event of this type (the test's own timeout bounds the wait). */
export function waitForEvent(events: RunEvent[], type: RunEvent['type']): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (events.some((e) => e.type === type)) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
}
