import type { ComfyConnector } from '../facade-types.js';
import { formatSearch, type ComfyLocation } from '../../server/discovery.js';
import { checkPlanFiles, connectionPlan, type ServerFlags } from '../connection.js';
import type { CliContext } from './context.js';
import { noticeWriter } from './notice.js';
import { withConnector } from './with-connector.js';

export interface InfoFlags extends ServerFlags {
  json?: boolean;
}

/** What `info` reports; also its --json shape. */
export interface ServerInfo {
  url: string;
  managed: boolean;
  comfyuiVersion: string | undefined;
  pythonVersion: string | undefined;
  pytorchVersion: string | undefined;
  os: string | undefined;
  devices: Array<{ name: string; type: string; vramTotal?: number; vramFree?: number }>;
  nodeCount: number;
  /** Model folder key → number of files ComfyUI lists in it. */
  models: Record<string, number>;
}

/** `info`: server URL, versions, devices, node count and model folders with their file counts. */
export async function infoCommand(flags: InfoFlags, ctx: CliContext): Promise<number> {
  const plan = connectionPlan(flags, ctx.env, ctx.cwd);
  await checkPlanFiles(plan, ctx.cwd);
  return withConnector(ctx, plan, noticeWriter(ctx), async (connector) => {
    const info = await gatherInfo(connector);
    const location = plan.mode === 'managed' ? plan.location : undefined;
    if (flags.json) ctx.stdout.write(`${JSON.stringify(location ? { ...info, comfyui: location } : info)}\n`);
    else ctx.stdout.write(formatInfo(info) + (location ? formatLocation(location) : ''));
    return 0;
  });
}

export async function gatherInfo(connector: ComfyConnector): Promise<ServerInfo> {
  const client = connector.client;
  const [stats, objectInfo, models] = await Promise.all([client.systemStats(), client.objectInfo(), modelCounts(connector)]);
  const system = (stats as { system?: Record<string, unknown> }).system ?? {};
  const devices = ((stats as { devices?: Array<Record<string, unknown>> }).devices ?? []).map((d) => ({
    name: String(d.name ?? '?'),
    type: String(d.type ?? '?'),
    ...(typeof d.vram_total === 'number' ? { vramTotal: d.vram_total } : {}),
    ...(typeof d.vram_free === 'number' ? { vramFree: d.vram_free } : {}),
  }));
  return {
    url: connector.url,
    managed: connector.server !== undefined,
    comfyuiVersion: stringOrUndefined(system.comfyui_version),
    pythonVersion: stringOrUndefined(system.python_version),
    pytorchVersion: stringOrUndefined(system.pytorch_version),
    os: stringOrUndefined(system.os),
    devices,
    nodeCount: Object.keys(objectInfo as object).length,
    models,
  };
}

/** GET /models lists the folder keys, GET /models/<key> the files in one. */
async function modelCounts(connector: ComfyConnector): Promise<Record<string, number>> {
  const client = connector.client;
  const keys = await client.models();
  const counts: Record<string, number> = {};
  // One at a time: a busy server should not get a burst of ~30 directory scans at once.
  for (const key of keys) {
    try {
      counts[key] = (await client.models(key)).length;
    } catch {
      // A key listed by /models but refused by /models/<key> has nothing to count.
    }
  }
  return counts;
}

export function formatInfo(info: ServerInfo): string {
  const gib = (bytes: number | undefined) => (bytes === undefined ? '?' : `${(bytes / 2 ** 30).toFixed(1)} GiB`);
  const rows: Array<[string, string]> = [
    ['server', `${info.url} (${info.managed ? 'managed by this command' : 'remote'})`],
    ['comfyui', info.comfyuiVersion ?? '?'],
    ['python', info.pythonVersion?.split(' ')[0] ?? '?'],
    ['pytorch', info.pytorchVersion ?? '?'],
    ['os', info.os ?? '?'],
    ...info.devices.map((d, i): [string, string] => [i === 0 ? 'devices' : '', `${d.name} (${d.type}, ${gib(d.vramFree)} free of ${gib(d.vramTotal)})`]),
    ['nodes', `${info.nodeCount} node classes`],
  ];
  // Most folders are empty on a fresh install: list the ones with files, then name the empty ones.
  const keys = Object.keys(info.models).sort();
  const filled = keys.filter((k) => (info.models[k] ?? 0) > 0);
  const empty = keys.filter((k) => (info.models[k] ?? 0) === 0);
  const width = Math.max(...filled.map((k) => k.length), 0);
  filled.forEach((key, i) => rows.push([i === 0 ? 'models' : '', `${key.padEnd(width)}  ${info.models[key]}`]));
  if (!keys.length) rows.push(['models', 'none listed']);
  if (empty.length) {
    const lines = wrapWords(`empty: ${empty.join(', ')}`, 80);
    lines.forEach((line, i) => rows.push([i === 0 && !filled.length ? 'models' : '', line]));
  }
  return `${rows.map(([k, v]) => `${k.padEnd(9)}${v}`.trimEnd()).join('\n')}\n`;
}

/** Which ComfyUI this command started, and the whole search that chose it (src/server/discovery.ts). */
export function formatLocation(location: ComfyLocation): string {
  const rows = [
    `${'folder'.padEnd(9)}${location.path} (from ${location.label})`,
    `${'python'.padEnd(9)}${location.python} (${location.pythonLabel})`,
    'search   where comfy-connector looks for ComfyUI, in order (the first folder with main.py and comfy/ wins):',
    ...formatSearch(location.search).map((line) => `       ${line}`),
  ];
  return `\nComfyUI used\n${rows.join('\n')}\n`;
}

function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
