/**
 * A worker's counters in the Prometheus text format, served on an opt-in loopback port
 * (`GET /metrics`). Each worker has its own registry (several workers may share a process in tests).
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly completed: Counter;
  readonly failed: Counter;
  readonly retried: Counter;
  readonly cancelled: Counter;
  readonly lockLost: Counter;
  readonly serverRestarts: Counter;
  readonly runSeconds: Counter;
  #server: Server | undefined;
  port: number | undefined;

  constructor(queueDepth: () => Promise<number>) {
    const counter = (name: string, help: string) => new Counter({ name, help, registers: [this.registry] });
    this.completed = counter('comfy_worker_jobs_completed_total', 'Jobs this worker completed.');
    this.failed = counter('comfy_worker_jobs_failed_total', 'Jobs that failed here for good (not retried).');
    this.retried = counter('comfy_worker_jobs_retried_total', 'Attempts that failed here and were given back for a retry.');
    this.cancelled = counter('comfy_worker_jobs_cancelled_total', 'Jobs cancelled while they ran here.');
    this.lockLost = counter('comfy_worker_lock_lost_total', 'Runs stopped because this worker lost the job lock.');
    this.serverRestarts = counter('comfy_worker_server_restarts_total', 'ComfyUI servers of this worker that crashed and were restarted.');
    this.runSeconds = counter('comfy_worker_run_seconds_total', 'Seconds spent running jobs (ComfyUI plus storing outputs).');
    new Gauge({
      name: 'comfy_worker_queue_depth',
      help: 'Jobs waiting in the queues this worker takes from.',
      registers: [this.registry],
      async collect() {
        this.set(await queueDepth().catch(() => 0));
      },
    });
  }

  /** Serves /metrics on host:port (0 = a free port; read `port` after). */
  async listen(port: number, host = '127.0.0.1'): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500).end(error.message),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.#server = server;
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
