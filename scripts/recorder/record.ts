import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScenarioSession, isRecord } from './session.js';
import { SCENARIOS, type ScenarioContext } from './scenarios.js';

export interface RecordOptions {
  url: string;
  /** Parent of the comfyui-<version>/ folders (test/fixtures). */
  fixturesRoot: string;
  /** Only scenarios whose name contains one of these (all when empty). */
  only?: string[];
  log?: (line: string) => void;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // keep the text
  }
  return { status: response.status, body };
}

function writeJson(path: string, value: unknown, pretty = true): void {
  writeFileSync(path, `${pretty ? JSON.stringify(value, null, 1) : JSON.stringify(value)}\n`);
}

export function frontendVersionOf(systemStats: unknown): string | null {
  if (!isRecord(systemStats) || !isRecord(systemStats['system'])) return null;
  const system = systemStats['system'];
  const packages = system['comfy_package_versions'];
  if (Array.isArray(packages)) {
    for (const entry of packages) {
      if (isRecord(entry) && entry['name'] === 'comfyui-frontend-package' && typeof entry['installed'] === 'string') {
        return entry['installed'];
      }
    }
  }
  return typeof system['required_frontend_version'] === 'string' ? system['required_frontend_version'] : null;
}

function previousSkipped(metaPath: string): Array<{ name: string; reason: string }> {
  if (!existsSync(metaPath)) return [];
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as unknown;
  if (!isRecord(meta) || !Array.isArray(meta['skipped'])) return [];
  return meta['skipped'].filter((s): s is { name: string; reason: string } => isRecord(s) && typeof s['name'] === 'string');
}

/** Records the static dumps and every scenario against a running ComfyUI; returns the folder written. */
export async function record(options: RecordOptions): Promise<string> {
  const log = options.log ?? ((line: string) => console.log(line));
  const base = options.url.replace(/\/+$/, '');
  const stats = await getJson(`${base}/system_stats`);
  const system = isRecord(stats.body) && isRecord(stats.body['system']) ? stats.body['system'] : undefined;
  const version = system && typeof system['comfyui_version'] === 'string' ? system['comfyui_version'] : undefined;
  if (!version) throw new Error(`${base}/system_stats has no system.comfyui_version; is this a ComfyUI server?`);

  const dir = join(options.fixturesRoot, `comfyui-${version}`);
  const partial = options.only !== undefined && options.only.length > 0;
  if (!partial) rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'models'), { recursive: true });
  mkdirSync(join(dir, 'scenarios'), { recursive: true });
  log(`recording ComfyUI ${version} at ${base} into ${dir}`);

  const objectInfo = await getJson(`${base}/object_info`);
  writeJson(join(dir, 'object_info.json'), objectInfo.body, false);
  writeJson(join(dir, 'system_stats.json'), stats.body);
  writeJson(join(dir, 'features.json'), (await getJson(`${base}/features`)).body);
  writeJson(join(dir, 'embeddings.json'), (await getJson(`${base}/embeddings`)).body);
  const models = await getJson(`${base}/models`);
  writeJson(join(dir, 'models.json'), models.body);
  if (Array.isArray(models.body)) {
    for (const key of models.body) {
      if (typeof key !== 'string') continue;
      const listing = await getJson(`${base}/models/${encodeURIComponent(key)}`);
      writeJson(join(dir, 'models', `${key}.json`), listing.status === 200 ? listing.body : listing);
    }
  }

  const nodeClasses = new Set(isRecord(objectInfo.body) ? Object.keys(objectInfo.body) : []);
  const context: ScenarioContext = { nodeClasses, shared: {} };
  const recorded: string[] = [];
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const scenario of SCENARIOS) {
    if (partial && !options.only?.some((f) => scenario.name.includes(f))) continue;
    const missing = scenario.requires.filter((c) => !nodeClasses.has(c));
    if (missing.length > 0) {
      const reason = `node class(es) ${missing.join(', ')} not loaded (start ComfyUI with --extra-model-paths-config test/comfy-nodes/extra_model_paths.yaml)`;
      log(`skip ${scenario.name}: ${reason}`);
      skipped.push({ name: scenario.name, reason });
      continue;
    }
    const session = new ScenarioSession(base, scenario.featureFlags);
    const started = Date.now();
    try {
      await session.open();
      await scenario.run(session, context);
    } finally {
      await session.close();
    }
    writeJson(join(dir, 'scenarios', `${scenario.name}.json`), session.toFile(scenario.name, scenario.description));
    recorded.push(scenario.name);
    log(`recorded ${scenario.name}: ${session.steps.length} steps in ${Date.now() - started} ms`);
  }

  // A partial (--only) run keeps the other scenario files, so meta lists whatever is on disk.
  const onDisk = new Set(readdirSync(join(dir, 'scenarios')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)));
  const known = SCENARIOS.map((s) => s.name);
  const scenarios = [...known.filter((n) => onDisk.has(n)), ...[...onDisk].filter((n) => !known.includes(n)).sort()];
  const previous = partial ? previousSkipped(join(dir, 'meta.json')) : [];
  writeJson(join(dir, 'meta.json'), {
    comfyuiVersion: version,
    frontendVersion: frontendVersionOf(stats.body),
    recordedAt: new Date().toISOString(),
    recorder: { url: base, testNodes: nodeClasses.has('ComfyConnectorSlowCounter') },
    scenarios,
    skipped: [...previous.filter((p) => !onDisk.has(p.name) && !skipped.some((s) => s.name === p.name)), ...skipped],
  });
  log(`recorded ${recorded.length} scenario(s), skipped ${skipped.length}`);
  return dir;
}
