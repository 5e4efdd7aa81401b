// PromptQueue: a min-heap on (number, prompt_id), the running set and the in-memory history.
export type QueueItem = [number, string, Record<string, unknown>, Record<string, unknown>, string[]];
export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, unknown>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: Array<[string, unknown]> };
  meta: Record<string, unknown>;
}

const MAXIMUM_HISTORY_SIZE = 10000;

function less(a: QueueItem, b: QueueItem): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

export class PromptQueue {
  readonly heap: QueueItem[] = [];
  readonly running = new Map<number, QueueItem>();
  readonly history = new Map<string, HistoryEntry>();
  private taskCounter = 0;
  private waiter: (() => void) | undefined;
  constructor(private readonly onChange: () => void) {}

  put(item: QueueItem): void {
    this.heap.push(item);
    let i = this.heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(this.heap[i]!, this.heap[p]!)) break;
      [this.heap[i], this.heap[p]] = [this.heap[p]!, this.heap[i]!];
      i = p;
    }
    this.onChange();
    this.waiter?.();
  }

  private popMin(): QueueItem {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < this.heap.length && less(this.heap[l]!, this.heap[m]!)) m = l;
        if (r < this.heap.length && less(this.heap[r]!, this.heap[m]!)) m = r;
        if (m === i) break;
        [this.heap[i], this.heap[m]] = [this.heap[m]!, this.heap[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Waits for an item; `paused()` (the stallWorker fault) holds items back while still accepting them. */
  async get(paused: () => boolean = () => false): Promise<[QueueItem, number]> {
    while (this.heap.length === 0 || paused()) {
      await new Promise<void>((r) => { this.waiter = r; setTimeout(r, 50); });
    }
    this.waiter = undefined;
    const item = this.popMin();
    const id = this.taskCounter++;
    this.running.set(id, item);
    this.onChange();
    return [item, id];
  }

  taskDone(id: number, entry: HistoryEntry | undefined): void {
    const item = this.running.get(id);
    this.running.delete(id);
    if (item && entry) {
      if (this.history.size > MAXIMUM_HISTORY_SIZE) this.history.delete(this.history.keys().next().value!);
      this.history.delete(item[1]);
      this.history.set(item[1], entry);
    }
    this.onChange();
  }

  remaining(): number {
    return this.heap.length + this.running.size;
  }

  wipe(): void {
    this.heap.length = 0;
    this.onChange();
  }

  deleteItem(promptId: unknown): void {
    const idx = this.heap.findIndex((x) => x[1] === promptId);
    if (idx < 0) return;
    // Python pops the item and re-heapifies.
    const rest = this.heap.filter((_, i) => i !== idx);
    this.heap.length = 0;
    for (const item of rest) this.heap.push(item);
    this.heap.sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
    this.onChange();
  }

  getHistory(options: { promptId?: string; maxItems?: number; offset?: number }): Record<string, HistoryEntry> {
    if (options.promptId !== undefined) {
      const e = this.history.get(options.promptId);
      return e ? { [options.promptId]: e } : {};
    }
    const entries = [...this.history.entries()];
    let offset = options.offset ?? -1;
    const max = options.maxItems;
    if (offset < 0 && max !== undefined) offset = entries.length - max;
    const slice = entries.slice(Math.max(offset, 0), max !== undefined ? Math.max(offset, 0) + max : undefined);
    return Object.fromEntries(slice);
  }
}
