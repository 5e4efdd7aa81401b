import type { TransferProgress } from './types.js';

/** Turns byte counts into throttled progress reports with a rate and an ETA. */
export class ProgressMeter {
  private readonly started = Date.now();
  private last = 0;
  private startBytes = -1;

  constructor(
    private readonly url: string,
    private readonly report: ((p: TransferProgress) => void) | undefined,
    private readonly intervalMs = 250,
  ) {}

  update(received: number, total: number | undefined, done = false): void {
    if (!this.report) return;
    if (this.startBytes < 0) this.startBytes = received; // a resumed transfer: rate counts new bytes only
    const now = Date.now();
    if (!done && now - this.last < this.intervalMs) return;
    this.last = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const bytesPerSecond = (received - this.startBytes) / seconds;
    const etaSeconds = total !== undefined && bytesPerSecond > 0 ? Math.max(0, (total - received) / bytesPerSecond) : undefined;
    this.report({ url: this.url, received, total, bytesPerSecond, etaSeconds, done });
  }
}
