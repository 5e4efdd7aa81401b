import { stripAnsi } from './log-buffer.js';

// ComfyUI prints this once per listen address, right after the socket is bound.
const READY_LINE = /To see the GUI go to: (https?:\/\/\S+)/;

/** The URL of a ready line, or undefined when the line is something else. */
export function matchReadyLine(line: string): string | undefined {
  return READY_LINE.exec(stripAnsi(line))?.[1];
}

// Real text at v0.33.0: "Port 18911 is already in use on address 127.0.0.1."; older versions and
// other paths print the OSError: "[Errno 98] ... address already in use".
const ADDRESS_IN_USE = /address already in use|\[Errno (98|48|10048)\]|is already in use on address/i;

export function mentionsAddressInUse(lines: string[]): boolean {
  return lines.some((line) => ADDRESS_IN_USE.test(line));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls GET /system_stats until it answers 200. The ready line comes after the bind, so this is
 * normally one request; the retries cover a slow event loop. Stops early when `signal` aborts.
 */
export async function waitForSystemStats(url: string, signal: AbortSignal): Promise<void> {
  let delay = 25;
  while (!signal.aborted) {
    try {
      const response = await fetch(`${url}/system_stats`, { signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // Not answering yet.
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
  throw signal.reason ?? new Error('aborted');
}
