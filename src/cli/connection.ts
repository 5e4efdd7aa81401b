import { access, constants } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FileNotReadableError } from '../errors.js';
import { describeLocation, locateComfyUI, type ComfyLocation } from '../server/discovery.js';
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
  /** --allow-private-urls: URL sources may be on loopback/private networks (as COMFY_CONNECTOR_ALLOW_PRIVATE_URLS=1). */
  allowPrivateUrls?: boolean;
}

export type ConnectionPlan =
  | { mode: 'remote'; url: string; headers: Record<string, string>; sources?: CreateOptions['sources'] }
  | { mode: 'managed'; options: CreateOptions; location?: ComfyLocation };

/**
 * Decides, from flags and environment, whether to start a managed ComfyUI or use a running one,
 * and which ComfyUI: --comfyui, COMFYUI_PATH, else the one the user already has (discovery.ts;
 * only this reads the filesystem). Unit-tested without a server.
 */
export function connectionPlan(flags: ServerFlags, env: NodeJS.ProcessEnv, cwd = process.cwd()): ConnectionPlan {
  const headers = parseHeaders(flags.header ?? []);
  const sources = flags.allowPrivateUrls ? { sources: { fetch: { allowPrivateNetwork: true } } } : {};
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
    return { mode: 'remote', url: flags.url, headers, ...sources };
  }
  if (Object.keys(headers).length) {
    throw new UsageError('--header only applies with --url (a managed ComfyUI needs none).');
  }
  const command = parseCommandEnv(env.COMFY_CONNECTOR_COMMAND);
  // The stand-in command (tests) takes only an explicit folder, as ComfyServer does.
  const location = command === undefined ? locateComfyUI({ comfyuiPath: flags.comfyui, python: flags.python, env, cwd }) : undefined;
  const comfyuiPath = location?.path ?? flags.comfyui;
  const python = location?.python ?? flags.python ?? nonEmpty(env.COMFYUI_PYTHON);
  const options: CreateOptions = {
    ...(comfyuiPath !== undefined ? { comfyuiPath } : {}),
    ...(python !== undefined ? { python } : {}),
    // The command says which ComfyUI it uses itself (describePlan), before the boot.
    ...(location ? { notices: 'silent' as const } : {}),
    ...(command !== undefined ? { command } : {}),
    ...(flags.arg?.length ? { extraArgs: [...flags.arg] } : {}),
    ...(flags.extraModelPaths?.length ? { extraModelPaths: [...flags.extraModelPaths] } : {}),
    ...(flags.port !== undefined ? { port: parsePort(flags.port) } : {}),
    ...(flags.startTimeout !== undefined ? { startTimeout: parseSeconds(flags.startTimeout, '--start-timeout') } : {}),
    ...sources,
  };
  return { mode: 'managed', options, ...(location ? { location } : {}) };
}

/** The --extra-model-paths files must be readable before a server boots (ComfyUI's start fails on a missing one, after its imports). */
export async function checkPlanFiles(plan: ConnectionPlan, cwd: string): Promise<void> {
  if (plan.mode !== 'managed') return;
  for (const file of plan.options.extraModelPaths ?? []) {
    try {
      await access(resolve(cwd, file), constants.R_OK);
    } catch (error) {
      throw FileNotReadableError.from(file, '--extra-model-paths', error);
    }
  }
}

/** Starts or connects. The library is imported here, lazily, so `--help` and usage errors stay instant. */
export async function openConnector(plan: ConnectionPlan): Promise<ComfyConnector> {
  const { ComfyConnector } = await import('../connector.js');
  if (plan.mode === 'remote') {
    return ComfyConnector.connect(plan.url, {
      ...(Object.keys(plan.headers).length ? { headers: plan.headers } : {}),
      ...(plan.sources ? { sources: plan.sources } : {}),
    });
  }
  return ComfyConnector.create(plan.options);
}

export function describePlan(plan: ConnectionPlan): string {
  if (plan.mode === 'remote') return `connecting to ComfyUI at ${plan.url}…`;
  if (plan.location) return `${describeLocation(plan.location)}; starting it…`;
  return `starting ComfyUI (${plan.options.comfyuiPath ?? 'the test command'})…`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
