import type { FastifyInstance } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';

/** bull-board at /dashboard for operators (admin keys only; see routes/auth-hook.ts). */
export async function mountDashboard(app: FastifyInstance, queues: unknown[]): Promise<void> {
  const adapter = new FastifyAdapter();
  adapter.setBasePath('/dashboard');
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q as Queue, { readOnlyMode: false })),
    // @bull-board/fastify pins its own copy of @bull-board/api's types.
    serverAdapter: adapter as never,
    options: { uiConfig: { boardTitle: 'comfy-connector' } },
  });
  await app.register(adapter.registerPlugin(), { prefix: '/dashboard' });
}
