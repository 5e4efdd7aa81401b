import type { TransferProgress } from '../../sources/types.js';
import type { TextStream } from './display.js';

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

function eta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.round(seconds);
  return s >= 60 ? `  ETA ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `  ETA ${s}s`;
}

/** "cat.png  12.3 MB / 50.0 MB  8.1 MB/s  ETA 5s": bytes, rate and time left of one transfer. */
export function formatTransfer(p: TransferProgress): string {
  const name = decodeURIComponent(p.url.split('?')[0]?.split('/').pop() || p.url);
  const amount = p.total !== undefined ? `${bytes(p.received)} / ${bytes(p.total)}` : bytes(p.received);
  return `${name}  ${amount}  ${bytes(p.bytesPerSecond)}/s${p.done ? '  done' : eta(p.etaSeconds)}`;
}

/**
 * A progress writer for long downloads: one line redrawn in place on a terminal; elsewhere a line
 * every 5 seconds and one at the end, so logs stay short. Small transfers (done within a second)
 * print nothing.
 */
export function transferProgress(stream: TextStream): (p: TransferProgress) => void {
  const started = new Map<string, number>();
  const lastLine = new Map<string, number>();
  return (p) => {
    const now = Date.now();
    if (!started.has(p.url)) started.set(p.url, now);
    if (now - started.get(p.url)! < 1000) return;
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${formatTransfer(p)}${p.done ? '\n' : ''}`);
      return;
    }
    if (!p.done && now - (lastLine.get(p.url) ?? 0) < 5000) return;
    lastLine.set(p.url, now);
    stream.write(`${formatTransfer(p)}\n`);
  };
}
