/**
 * The servers a worker owns: managed ones (ComfyConnector.launch, never the create() singleton;
 * restart on crash; the watchdog takes them down with a SIGKILLed worker) or running ones attached
 * by URL. Each is a slot that runs one job at a time and knows what it can run.
 */
import { ComfyClient } from '../client/index.js';
import { ComfyConnector, type CreateOptions } from '../connector.js';
import { locateComfyUI } from '../server/discovery.js';
import { Preloader } from '../server/preload.js';
import type { Capabilities } from './names.js';
import type { ServerAd } from './worker-registry.js';

export type ServerSpec = CreateOptions | { url: string; headers?: Record<string, string> };

export interface ServerSlot {
  name: string;
  connector: ComfyConnector;
  /** What the slot's server was launched from (with the worker's preloader): a fresh one is launched from it again. */
  spec: ServerSpec;
  state: ServerAd['state'];
  capabilities: Capabilities;
  jobId?: string | undefined;
  /** Aborts the job running here (cancel, lock lapse, drain). */
  abort?: ((reason: unknown) => void) | undefined;
  /** Set while the slot is brought back after a crash, or gets a fresh server (isolation 'job'). */
  recovering?: Promise<void> | undefined;
}

export function isAttached(spec: ServerSpec): spec is { url: string; headers?: Record<string, string> } {
  return 'url' in spec && typeof spec.url === 'string';
}

export async function openServer(spec: ServerSpec): Promise<ComfyConnector> {
  if (isAttached(spec)) return ComfyConnector.connect(spec.url, spec.headers ? { headers: spec.headers } : {});
  return ComfyConnector.launch({ restart: 'on-crash', ...spec });
}

/**
 * A managed spec as the worker launches it with startMode 'fork': forked from a Preloader shared by
 * every server of the worker with the same checkout, interpreter and environment (made here, once,
 * into `preloaders`; the worker closes them after its servers). A spec that chose its own
 * startMode or preloader keeps it. Where no preload can be made (a replacement `command` such as
 * the Node stand-in, no ComfyUI found) the spec only asks for 'fork': ComfyServer then starts cold
 * and says why in one log line, and a launch that cannot work fails as it would have.
 */
export function forkingSpec(spec: ServerSpec, preloaders: Map<string, Preloader>): ServerSpec {
  if (isAttached(spec) || spec.startMode !== undefined || spec.preloader) return spec;
  if (spec.command) return { ...spec, startMode: 'fork' };
  let location;
  try {
    location = locateComfyUI({ comfyuiPath: spec.comfyuiPath, python: spec.python });
  } catch {
    return { ...spec, startMode: 'fork' };
  }
  // The preloader's environment must be the server's (preload.ts, incompatibility()): one per env.
  const key = JSON.stringify([location.path, location.python, Object.entries(spec.env ?? {}).sort(), spec.databaseTemplates ?? null]);
  let preloader = preloaders.get(key);
  if (!preloader) {
    try {
      preloader = new Preloader({
        comfyuiPath: location.path,
        python: location.python,
        ...(spec.env ? { env: spec.env } : {}),
        ...(spec.databaseTemplates !== undefined ? { databaseTemplates: spec.databaseTemplates } : {}),
      });
    } catch {
      return { ...spec, startMode: 'fork' };
    }
    preloaders.set(key, preloader);
  }
  return { ...spec, comfyuiPath: location.path, python: location.python, preloader };
}

/** Node classes from /object_info and model files per folder from /models, from the live URL. */
export async function readCapabilities(connector: ComfyConnector): Promise<Capabilities> {
  // A fresh client: after a restart the connector's own may still point at the old port.
  const client = new ComfyClient({ url: connector.url });
  try {
    const info = await client.objectInfo();
    const models: Record<string, string[]> = {};
    const folders = await client.models().catch(() => [] as string[]);
    await Promise.all(
      folders.map(async (folder) => {
        const names = await client.models(folder).catch(() => [] as string[]);
        if (names.length) models[folder] = names;
      }),
    );
    return { nodeClasses: Object.keys(info).sort(), models };
  } finally {
    client.close();
  }
}
