import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { stripAnsi } from './log-buffer.js';
import { setTimeout as sleep } from 'node:timers/promises';

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

/**
 * Polls GET /system_stats until it answers 200. The ready line comes after the bind, so this is
 * normally one request; the retries cover a slow event loop. Stops early when `signal` aborts.
 * node:http rather than fetch: fetch's first use in a process costs 100-300 ms of loading.
 */
export async function waitForSystemStats(url: string, signal: AbortSignal): Promise<void> {
  let delay = 25;
  while (!signal.aborted) {
    if ((await statusOf(`${url}/system_stats`, signal).catch(() => 0)) === 200) return;
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
  throw signal.reason ?? new Error('aborted');
}

/** The HTTP status of a GET (the body is read and dropped). */
function statusOf(url: string, signal: AbortSignal, timeoutMs = 5000): Promise<number> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const request = get(url, { signal, timeout: timeoutMs, agent: false }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('error', reject);
    });
    request.once('timeout', () => request.destroy(new Error('timed out')));
    request.once('error', reject);
  });
}
