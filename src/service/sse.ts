import type { ServerResponse } from 'node:http';
import type { JobEvent } from '../queue/types.js';

/**
 * Server-Sent Events framing: one event per job event, `id:` its per-job seq so a client that
 * reconnects sends Last-Event-ID and gets exactly what it missed. Comments keep proxies from
 * closing an idle stream.
 */
export function frameEvent(event: JobEvent): string {
  // JSON never contains a raw newline, so one data: line is always enough.
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function openStream(res: ServerResponse, retryMs = 2000): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    // nginx buffers responses unless told not to.
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${retryMs}\n\n`);
}

/** Writes a comment every intervalMs until stopped; returns the stop function. */
export function heartbeat(res: ServerResponse, intervalMs = 15_000): () => void {
  const timer = setInterval(() => res.write(': keep-alive\n\n'), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Where to resume: the Last-Event-ID header wins over ?after=. */
export function resumePoint(lastEventId: string | string[] | undefined, after: number | undefined): number {
  const header = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
  const n = header !== undefined ? Number(header) : NaN;
  if (Number.isInteger(n) && n >= 0) return n;
  return after ?? 0;
}

/** Parses an SSE stream (for tests and the bench): yields {id, event, data} per event. */
export async function* parseSse(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<{ id?: string; event?: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  // Node's web ReadableStream is async-iterable; the DOM typings do not say so.
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const out: { id?: string; event?: string; data: string } = { data: '' };
      let hasData = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') out.id = value;
        else if (field === 'event') out.event = value;
        else if (field === 'data') { out.data += (hasData ? '\n' : '') + value; hasData = true; }
      }
      if (hasData) yield out;
    }
  }
}
