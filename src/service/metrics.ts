import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobBackend } from './backend.js';

/** The service's Prometheus metrics, on a registry of its own (never prom-client's global one). */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly submitted: Counter<'outcome'>;
  readonly webhooks: Counter<'outcome'>;
  readonly sseClients: Gauge;

  constructor(backend: JobBackend) {
    collectDefaultMetrics({ register: this.registry, prefix: 'comfy_connector_api_' });
    this.requests = new Counter({ name: 'comfy_connector_api_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
    this.duration = new Histogram({ name: 'comfy_connector_api_request_seconds', help: 'HTTP request duration (SSE streams excluded)', labelNames: ['method', 'route'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120], registers: [this.registry] });
    this.submitted = new Counter({ name: 'comfy_connector_api_jobs_submitted_total', help: 'Jobs accepted (created) or answered from an idempotency key (replayed)', labelNames: ['outcome'], registers: [this.registry] });
    this.webhooks = new Counter({ name: 'comfy_connector_api_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers: [this.registry] });
    this.sseClients = new Gauge({ name: 'comfy_connector_api_sse_clients', help: 'Open event streams', registers: [this.registry] });
    new Gauge({
      name: 'comfy_connector_api_queue_jobs',
      help: 'Jobs in the queue by state',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const c = await backend.counts().catch(() => undefined);
        if (!c) return;
        for (const [state, n] of Object.entries(c)) this.set({ state }, n);
      },
    });
  }
}
