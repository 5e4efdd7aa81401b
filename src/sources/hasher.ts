import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * The download's sha256. On the event loop, each chunk is hashed as it arrives (while it is still
 * in the CPU cache). On a worker thread, whole blocks of shared memory are hashed there while the
 * event loop reads the socket, so the hash costs the download no time on a machine with a core to
 * spare. Either way the bytes are hashed in order, exactly once.
 */
export interface Hasher {
  /** True when blocks are hashed on a worker (they must then live in the shared memory given to it). */
  readonly onWorker: boolean;
  /** A chunk as it arrives (event-loop hasher only; a no-op on the worker). */
  chunk(data: Buffer): void;
  /** A block of the shared memory (worker hasher only; resolves at once on the event loop). */
  block(at: number, length: number): Promise<void>;
  digest(): Promise<string>;
  /** Stops the worker; safe to call more than once. */
  close(): Promise<void>;
}

export class LoopHasher implements Hasher {
  readonly onWorker = false;
  private readonly hash: Hash = createHash('sha256');
  chunk(data: Buffer): void {
    this.hash.update(data);
  }
  block(): Promise<void> {
    return Promise.resolve();
  }
  digest(): Promise<string> {
    return Promise.resolve(this.hash.digest('hex'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

// CommonJS source, so the same string runs under tsx and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const memory = new Uint8Array(workerData.memory);
const hash = createHash('sha256');
parentPort.on('message', (m) => {
  if (m.digest) return parentPort.postMessage({ hex: hash.digest('hex') });
  hash.update(memory.subarray(m.at, m.at + m.length));
  parentPort.postMessage({ id: m.id });
});
`;

export class WorkerHasher implements Hasher {
  readonly onWorker = true;
  private readonly worker: Worker;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private digestWaiter: { resolve: (hex: string) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private closed = false;

  /** A started worker, or undefined where none can start (a permission model, a runtime without workers). */
  static async start(memory: SharedArrayBuffer): Promise<WorkerHasher | undefined> {
    let hasher: WorkerHasher;
    try {
      hasher = new WorkerHasher(memory);
    } catch {
      return undefined;
    }
    const online = await new Promise<boolean>((resolve) => {
      hasher.worker.once('online', () => resolve(true));
      hasher.worker.once('error', () => resolve(false));
      hasher.worker.once('exit', () => resolve(false));
    });
    if (online) return hasher;
    await hasher.close();
    return undefined;
  }

  private constructor(memory: SharedArrayBuffer) {
    // execArgv: [] so the worker does not load the parent's --import hooks (tsx) for ten lines of CommonJS.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { memory }, execArgv: [] });
    this.worker.on('message', (m: { id?: number; hex?: string }) => {
      if (m.hex !== undefined) {
        this.digestWaiter?.resolve(m.hex);
        this.digestWaiter = undefined;
      } else if (m.id !== undefined) {
        this.waiting.get(m.id)?.resolve();
        this.waiting.delete(m.id);
      }
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      for (const w of this.waiting.values()) w.reject(error);
      this.waiting.clear();
      this.digestWaiter?.reject(error);
      this.digestWaiter = undefined;
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error('the sha256 worker stopped')));
  }

  chunk(): void {}

  block(at: number, length: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, at, length });
    });
  }

  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.digestWaiter = { resolve, reject };
      this.worker.postMessage({ digest: true });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}
