import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator, Caller } from '../auth.js';
import { PROBLEM_TYPE, toProblem } from '../problem.js';

export type AuthLevel = 'none' | 'user' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthLevel;
  }
  interface FastifyRequest {
    caller: Caller | null;
  }
}

/** Routes of plugins (dashboard, docs) have no config of ours: decided by their prefix. */
function levelOf(request: FastifyRequest): AuthLevel {
  const configured = request.routeOptions.config?.auth;
  if (configured) return configured;
  const url = request.url;
  if (url.startsWith('/dashboard')) return 'admin';
  if (url === '/docs' || url.startsWith('/docs/')) return 'none';
  return 'user';
}

/** Every route needs a key unless it says otherwise; the caller is on the request from then on. */
export function authHook(app: FastifyInstance, auth: Authenticator): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (request, reply) => {
    const level = levelOf(request);
    if (level === 'none') return;
    try {
      const caller = auth.authenticate(request.headers.authorization);
      if (level === 'admin') auth.requireAdmin(caller, `${request.method} ${request.url.split('?')[0]}`);
      request.caller = caller;
    } catch (error) {
      // Answered here: plugins (the dashboard) have error handlers of their own that know no problem+json.
      const problem = toProblem(error, request.url.split('?')[0]);
      if (problem.status === 401) reply.header('www-authenticate', 'Bearer');
      return reply.code(problem.status).type(PROBLEM_TYPE).send(problem);
    }
  });
}

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('route reached without authentication');
  return request.caller;
}
