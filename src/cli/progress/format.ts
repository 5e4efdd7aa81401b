/** Small text helpers shared by the displays. */

/** 0:07, 1:05:09 — elapsed wall time as a person reads it. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** 3.4 s / 2 min 5 s — a finished run's duration. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

export function formatPercent(fraction: number): string {
  return `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

/** "node 3 (KSampler)", or "node 3" when the class is unknown. */
export function formatNode(node: string | undefined, classType: string | undefined): string {
  if (node === undefined) return '';
  return classType ? `node ${node} (${classType})` : `node ${node}`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * Cuts a plain (colourless) line to the terminal's width. The live display also turns the
 * terminal's autowrap off while it draws (cli-progress `linewrap: false`), so a line that is still
 * too wide (characters some terminals draw double) is clipped, never wrapped: a wrapped live line
 * cannot be redrawn in place.
 */
export function fitWidth(text: string, width: number | undefined): string {
  const chars = [...text];
  if (!width || width < 10 || chars.length < width) return text;
  return `${chars.slice(0, width - 2).join('')}…`;
}
