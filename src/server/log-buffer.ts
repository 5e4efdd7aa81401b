/** The last N lines a process printed, oldest first, with ANSI colour codes removed. */

// CSI sequences (colours, cursor moves) and OSC sequences (titles, hyperlinks).
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export class LogRing {
  readonly #capacity: number;
  readonly #lines: string[] = [];

  constructor(capacity: number) {
    this.#capacity = Math.max(0, Math.floor(capacity));
  }

  push(line: string): void {
    if (this.#capacity === 0) return;
    this.#lines.push(line);
    if (this.#lines.length > this.#capacity) this.#lines.splice(0, this.#lines.length - this.#capacity);
  }

  lines(): string[] {
    return this.#lines.slice();
  }
}

/**
 * Turns a byte stream into lines. `\r` also ends a line: tqdm redraws its progress bar with
 * carriage returns, and one bar must not become one endless line.
 */
export class LineSplitter {
  #pending = '';
  readonly #decoder = new TextDecoder();

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Buffer): void {
    const text = this.#pending + this.#decoder.decode(chunk, { stream: true });
    const parts = text.split(/\r\n|\r|\n/);
    this.#pending = parts.pop() ?? '';
    for (const part of parts) if (part.length) this.onLine(part);
    // A line that never ends (a misbehaving child) is flushed rather than growing without bound.
    if (this.#pending.length > 64 * 1024) this.flush();
  }

  flush(): void {
    const rest = this.#pending + this.#decoder.decode();
    this.#pending = '';
    if (rest.length) this.onLine(rest);
  }
}
