import type { ComfyConnector } from './facade-types.js';
import { EXIT } from './exit-codes.js';

/**
 * The one connector a command uses, and what Ctrl-C / SIGTERM do to it. main.ts routes signals
 * here: the first one aborts the running prompt (the command then returns and closes the connector);
 * a second one is answered by forceClose(), which kills without waiting for the cancel.
 */
export class Session {
  readonly #abort = new AbortController();
  #connector: Promise<ComfyConnector> | undefined;
  #current: ComfyConnector | undefined;
  #signal: NodeJS.Signals | undefined;
  #closing: Promise<void> | undefined;
  #onSignal: Array<(signal: NodeJS.Signals) => void> = [];
  #announcer: (text: string) => void = () => {};

  /** Where a status line about a signal goes; a command with a live display routes it there. */
  set announcer(write: (text: string) => void) {
    this.#announcer = write;
  }

  announce(text: string): void {
    this.#announcer(text);
  }

  /** Aborted on the first SIGINT/SIGTERM; passed to every run. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get cancelled(): boolean {
    return this.#signal !== undefined;
  }

  /** 130 for SIGINT (Ctrl-C), 143 for SIGTERM: the shell convention 128 + signal number. */
  get cancelExitCode(): number {
    return this.#signal === 'SIGTERM' ? EXIT.terminated : EXIT.cancelled;
  }

  /** The connector once it is up, for its URL and log tail. */
  get connector(): ComfyConnector | undefined {
    return this.#current;
  }

  /** Opens the connector once; a boot that is still running when a signal comes is closed as soon as it is up. */
  open(factory: () => Promise<ComfyConnector>): Promise<ComfyConnector> {
    this.#connector ??= factory().then((connector) => {
      this.#current = connector;
      return connector;
    });
    return this.#connector;
  }

  /** Records a signal; 'first' means cancel gracefully, 'again' means the user insists. */
  interrupt(signal: NodeJS.Signals): 'first' | 'again' {
    if (this.#signal !== undefined) return 'again';
    this.#signal = signal;
    this.#abort.abort(new Error(`${signal} received`));
    for (const listener of this.#onSignal) listener(signal);
    return 'first';
  }

  /** Resolves on the first signal (serve waits on this). */
  waitForSignal(): Promise<NodeJS.Signals> {
    if (this.#signal) return Promise.resolve(this.#signal);
    return new Promise((resolve) => this.#onSignal.push(resolve));
  }

  /** killApi on whatever was opened (waiting for a boot in progress); idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#connector) return;
      let connector: ComfyConnector;
      try {
        connector = await this.#connector;
      } catch {
        return; // the boot failed: the library already stopped what it started
      }
      await connector.killApi();
    })();
    return this.#closing;
  }

  /** The second Ctrl-C: the same killApi, without waiting for the prompt's cancel to finish first. */
  forceClose(): Promise<void> {
    return this.close();
  }
}
