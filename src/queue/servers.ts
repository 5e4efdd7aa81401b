/**
 * The servers a worker owns: managed ones (ComfyConnector.launch, never the create() singleton;
 * restart on crash; the watchdog takes them down with a SIGKILLed worker) or running ones attached
 * by URL. Each is a slot that runs one job at a time and knows what it can run.
 */
import { ComfyClient } from '../client/index.js';
import { ComfyConnector, type CreateOptions } from '../connector.js';
import type { Capabilities } from './names.js';
import type { ServerAd } from './worker-registry.js';

export type ServerSpec = CreateOptions | { url: string; headers?: Record<string, string> };

export interface ServerSlot {
  name: string;
  connector: ComfyConnector;
  state: ServerAd['state'];
  capabilities: Capabilities;
  jobId?: string | undefined;
  /** Aborts the job running here (cancel, lock lapse, drain). */
  abort?: ((reason: unknown) => void) | undefined;
  /** Set while the slot is brought back after a crash. */
  recovering?: Promise<void> | undefined;
}

export async function openServer(spec: ServerSpec): Promise<ComfyConnector> {
  if ('url' in spec && typeof spec.url === 'string') return ComfyConnector.connect(spec.url, spec.headers ? { headers: spec.headers } : {});
  return ComfyConnector.launch({ restart: 'on-crash', ...(spec as CreateOptions) });
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
