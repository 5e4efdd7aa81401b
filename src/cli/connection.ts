import type { ComfyConnector, CreateOptions } from './facade-types.js';
import { parseCommandEnv, parseHeaders, parsePort, parseSeconds } from './parse-options.js';
import { UsageError } from './usage-error.js';

/** The options every command that needs a server shares (see addServerOptions in program.ts). */
export interface ServerFlags {
  comfyui?: string;
  python?: string;
  url?: string;
  header?: string[];
  startTimeout?: string;
  arg?: string[];
  extraModelPaths?: string[];
  port?: string;
  verbose?: boolean;
}

export type ConnectionPlan =
  | { mode: 'remote'; url: string; headers: Record<string, string> }
  | { mode: 'managed'; options: CreateOptions };

/**
 * Decides, from flags and environment, whether to start a managed ComfyUI or use a running one.
 * Pure, so the precedence (flag over environment) is unit-tested without a server.
 */
export function connectionPlan(flags: ServerFlags, env: NodeJS.ProcessEnv): ConnectionPlan {
  const headers = parseHeaders(flags.header ?? []);
  if (flags.url !== undefined) {
    const managedOnly = [
      flags.comfyui !== undefined && '--comfyui',
      flags.python !== undefined && '--python',
      flags.startTimeout !== undefined && '--start-timeout',
      flags.arg?.length && '--arg',
      flags.extraModelPaths?.length && '--extra-model-paths',
      flags.port !== undefined && '--port',
    ].filter(Boolean);
    if (managedOnly.length) {
      throw new UsageError(`--url uses a running ComfyUI, so ${managedOnly.join(', ')} cannot apply.`, 'Drop --url to start a managed ComfyUI, or drop the other flags.');
    }
    try {
      new URL(flags.url);
    } catch {
      throw new UsageError(`--url ${JSON.stringify(flags.url)} is not a URL.`, 'For example --url http://127.0.0.1:8188');
    }
    return { mode: 'remote', url: flags.url, headers };
  }
  if (Object.keys(headers).length) {
    throw new UsageError('--header only applies with --url (a managed ComfyUI needs none).');
  }
  const command = parseCommandEnv(env.COMFY_CONNECTOR_COMMAND);
  const comfyuiPath = flags.comfyui ?? nonEmpty(env.COMFYUI_PATH);
  const python = flags.python ?? nonEmpty(env.COMFYUI_PYTHON);
  if (comfyuiPath === undefined && command === undefined) {
    throw new UsageError('No ComfyUI to start and no server to use.', 'Pass --comfyui DIR (or set COMFYUI_PATH) to start one, or --url URL to use a running one.');
  }
  const options: CreateOptions = {
    ...(comfyuiPath !== undefined ? { comfyuiPath } : {}),
    ...(python !== undefined ? { python } : {}),
    ...(command !== undefined ? { command } : {}),
    ...(flags.arg?.length ? { extraArgs: [...flags.arg] } : {}),
    ...(flags.extraModelPaths?.length ? { extraModelPaths: [...flags.extraModelPaths] } : {}),
    ...(flags.port !== undefined ? { port: parsePort(flags.port) } : {}),
    ...(flags.startTimeout !== undefined ? { startTimeout: parseSeconds(flags.startTimeout, '--start-timeout') } : {}),
  };
  return { mode: 'managed', options };
}

/** Starts or connects. The library is imported here, lazily, so `--help` and usage errors stay instant. */
export async function openConnector(plan: ConnectionPlan): Promise<ComfyConnector> {
  const { ComfyConnector } = await import('../connector.js');
  if (plan.mode === 'remote') {
    return ComfyConnector.connect(plan.url, Object.keys(plan.headers).length ? { headers: plan.headers } : {});
  }
  return ComfyConnector.create(plan.options);
}

export function describePlan(plan: ConnectionPlan): string {
  if (plan.mode === 'remote') return `connecting to ComfyUI at ${plan.url}…`;
  const where = plan.options.comfyuiPath ?? 'the test command';
  return `starting ComfyUI (${where})…`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
