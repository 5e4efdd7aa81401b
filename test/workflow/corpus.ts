/**
 * The parity corpus: real workflows to convert with both the native converter and the frontend.
 *
 * Sources, each optional (what is absent is reported, never silently dropped):
 *   - the ComfyUI_examples pairs and plain workflows ($COMFY_CORPUS_DIR, else ../shared/corpus beside the checkout);
 *   - every template of comfyui-workflow-templates 0.11.41 (installed by scripts/setup-oracle.sh
 *     into .cache/py, or found in the ComfyUI venv).
 * Workflows that use node types the node definitions lack are listed as skipped with those types.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

/** Node types the frontend registers itself; they never appear in /object_info. */
export const FRONTEND_NODE_TYPES = new Set(['PrimitiveNode', 'Note', 'MarkdownNote', 'Reroute']);

/**
 * What CI's corpus holds (91 ComfyUI_examples workflows + 496 templates of 0.11.41, 3 more skipped
 * for missing node types): with CI=true the parity suites must compare exactly these many.
 */
export const EXPECTED_USABLE_WORKFLOWS = 587;

/** With CI=true a prerequisite CI installs must be present: the suite fails instead of skipping. */
export const IN_CI = process.env.CI === 'true';

export type CorpusOrigin = 'examples-pairs' | 'examples-workflows' | 'templates';

export interface CorpusEntry {
  /** Stable, unique, file-name safe: `<origin>/<file name without .json>`. */
  name: string;
  origin: CorpusOrigin;
  file: string;
  workflow: Record<string, unknown>;
  /** For examples pairs: the prompt ComfyUI stored beside the workflow (made by an older frontend). */
  recordedPrompt?: Record<string, unknown>;
}

export interface SkippedEntry {
  name: string;
  missingTypes: string[];
}

export interface Corpus {
  /** Workflows every node type of which the definitions know. */
  usable: CorpusEntry[];
  /** Workflows left out because of missing node types. */
  skipped: SkippedEntry[];
  /** Folders read, and sources that were not found (with where we looked). */
  sources: string[];
  absent: string[];
}

/** The recorded /object_info (preferred) or the provisional dump; undefined when neither exists. */
export function findDefinitionsFile(): string | undefined {
  const candidates = [
    process.env.COMFY_OBJECT_INFO,
    join(root, 'test/fixtures/comfyui-0.33.0/object_info.json'),
    '/work/comfy/object_info.provisional.json',
  ];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

export function examplesCorpusDir(): string | undefined {
  const candidates = [process.env.COMFY_CORPUS_DIR, join(root, 'test/fixtures/corpus'), join(root, '..', 'shared', 'corpus')];
  return candidates.find((dir): dir is string => !!dir && existsSync(join(dir, 'examples-pairs')));
}

/** The frontend versions the parity suites prove: the one ComfyUI v0.33.0 pins, and the newest on PyPI. */
export const FRONTEND_VERSIONS = ['1.48.7', '1.58.1'] as const;
export type FrontendVersion = (typeof FRONTEND_VERSIONS)[number];
export const DEFAULT_FRONTEND_VERSION: FrontendVersion = '1.48.7';

/**
 * The python packages folder of scripts/setup-oracle.sh (ORACLE_PY_TARGET overrides it, as there):
 * .cache/py holds frontend 1.48.7 and the templates, .cache/py-<version> each other frontend.
 */
export function oraclePackagesDir(version: string = DEFAULT_FRONTEND_VERSION): string {
  const base = process.env.ORACLE_PY_TARGET ?? join(root, '.cache/py');
  return version === DEFAULT_FRONTEND_VERSION ? base : `${base}-${version}`;
}

export function templatesDir(): string | undefined {
  const candidates = [
    join(oraclePackagesDir(), 'comfyui_workflow_templates_json/templates'),
    '/work/comfy/venv/lib/python3.11/site-packages/comfyui_workflow_templates_json/templates',
  ];
  return candidates.find((dir) => existsSync(dir));
}

/** The frontend's static folder the stand-in serves (--front-end-root). */
export function frontendStaticDir(version: string = DEFAULT_FRONTEND_VERSION): string | undefined {
  const dir = join(oraclePackagesDir(version), 'comfyui_frontend_package/static');
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}

export function loadCorpus(definitions: Record<string, unknown>): Corpus {
  const entries: CorpusEntry[] = [];
  const sources: string[] = [];
  const absent: string[] = [];

  const examples = examplesCorpusDir();
  if (examples) {
    for (const origin of ['examples-pairs', 'examples-workflows'] as const) {
      const dir = join(examples, origin);
      sources.push(dir);
      for (const file of jsonFiles(dir)) {
        const data = readJson(join(dir, file));
        const workflow = origin === 'examples-pairs' ? data.workflow : data;
        if (!isUiWorkflow(workflow)) continue;
        const entry: CorpusEntry = { name: `${origin}/${file.slice(0, -5)}`, origin, file: join(dir, file), workflow };
        if (origin === 'examples-pairs' && isObject(data.prompt)) entry.recordedPrompt = data.prompt;
        entries.push(entry);
      }
    }
  } else {
    absent.push('ComfyUI_examples corpus (set COMFY_CORPUS_DIR, or put ../shared/corpus beside the checkout)');
  }

  const templates = templatesDir();
  if (templates) {
    sources.push(templates);
    for (const file of jsonFiles(templates)) {
      // index*.json are the template gallery's manifests, not workflows: isUiWorkflow drops them.
      const workflow = readJson(join(templates, file));
      if (!isUiWorkflow(workflow)) continue;
      entries.push({ name: `templates/${file.slice(0, -5)}`, origin: 'templates', file: join(templates, file), workflow });
    }
  } else {
    absent.push('comfyui-workflow-templates 0.11.41 (run scripts/setup-oracle.sh)');
  }

  const usable: CorpusEntry[] = [];
  const skipped: SkippedEntry[] = [];
  for (const entry of entries) {
    const missingTypes = missingNodeTypes(entry.workflow, definitions);
    if (missingTypes.length) skipped.push({ name: entry.name, missingTypes });
    else usable.push(entry);
  }
  return { usable, skipped, sources, absent };
}

/**
 * Node types in the workflow (top level, subgraph definitions, legacy group nodes) that neither
 * the definitions nor the frontend itself provide. Subgraph instances and group-node instances
 * are resolved against the workflow's own definitions.
 */
export function missingNodeTypes(workflow: Record<string, unknown>, definitions: Record<string, unknown>): string[] {
  const local = new Set<string>();
  const nodeLists: unknown[][] = [];
  if (Array.isArray(workflow.nodes)) nodeLists.push(workflow.nodes);
  const subgraphs = (workflow.definitions as { subgraphs?: unknown } | undefined)?.subgraphs;
  if (Array.isArray(subgraphs)) {
    for (const subgraph of subgraphs) {
      if (!isObject(subgraph)) continue;
      if (typeof subgraph.id === 'string') local.add(subgraph.id);
      if (Array.isArray(subgraph.nodes)) nodeLists.push(subgraph.nodes);
    }
  }
  const groupNodes = (workflow.extra as { groupNodes?: unknown } | undefined)?.groupNodes;
  if (isObject(groupNodes)) {
    for (const [name, group] of Object.entries(groupNodes)) {
      local.add(`workflow>${name}`);
      local.add(`workflow/${name}`);
      if (isObject(group) && Array.isArray(group.nodes)) nodeLists.push(group.nodes);
    }
  }
  const missing = new Set<string>();
  for (const nodes of nodeLists) {
    for (const node of nodes) {
      const type = isObject(node) ? node.type : undefined;
      if (typeof type !== 'string') continue;
      if (type in definitions || FRONTEND_NODE_TYPES.has(type) || local.has(type)) continue;
      missing.add(type);
    }
  }
  return [...missing].sort();
}

/**
 * A recorded (older-frontend, server-touched) prompt in today's shape, per the corpus README:
 * no `is_changed`, no upload-button inputs; `_meta` is dropped from both sides by the caller when
 * the recorded prompt has none. Numbers need nothing: JSON.parse reads 8.0 as 8.
 */
export function normaliseRecordedPrompt(prompt: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, entry] of Object.entries(prompt)) {
    if (!isObject(entry)) continue;
    const { is_changed: _ignored, ...rest } = entry;
    const inputs = isObject(rest.inputs) ? { ...rest.inputs } : {};
    delete inputs.upload;
    delete inputs['choose file to upload'];
    out[id] = { ...rest, inputs };
  }
  return out;
}

export function isUiWorkflow(value: unknown): value is Record<string, unknown> {
  return isObject(value) && Array.isArray(value.nodes) && (Array.isArray(value.links) || isObject(value.state) || 'version' in value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/**
 * The fixed randomness and clock both converters get in parity runs, so dynamic prompts (`{a|b}`)
 * and `%date:…%` prefixes compare equal. A fresh generator per workflow: each one starts the same.
 */
export const PARITY_NOW = new Date('2025-01-02T03:04:05.678Z');

export function parityConvertOptions(): { random: () => number; now: () => Date } {
  let state = 0x9e3779b9;
  // mulberry32: tiny, seedable, good enough to pick among alternatives.
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { random, now: () => new Date(PARITY_NOW) };
}
