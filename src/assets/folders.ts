import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { parse } from 'yaml';
import type { AssetServerPaths } from './types.js';

/**
 * Model folder keys and their folders below <models>, in ComfyUI's search order
 * (folder_paths.py at v0.33.0). The first folder of a key is where uploads go.
 */
const MODEL_TABLE: Record<string, string[]> = {
  checkpoints: ['checkpoints'],
  configs: ['configs'],
  loras: ['loras'],
  vae: ['vae'],
  text_encoders: ['text_encoders', 'clip'],
  diffusion_models: ['unet', 'diffusion_models'],
  clip_vision: ['clip_vision'],
  style_models: ['style_models'],
  embeddings: ['embeddings'],
  diffusers: ['diffusers'],
  vae_approx: ['vae_approx'],
  controlnet: ['controlnet', 't2i_adapter'],
  gligen: ['gligen'],
  upscale_models: ['upscale_models'],
  latent_upscale_models: ['latent_upscale_models'],
  hypernetworks: ['hypernetworks'],
  photomaker: ['photomaker'],
  classifiers: ['classifiers'],
  model_patches: ['model_patches'],
  audio_encoders: ['audio_encoders'],
  background_removal: ['background_removal'],
  frame_interpolation: ['frame_interpolation'],
  geometry_estimation: ['geometry_estimation'],
  optical_flow: ['optical_flow'],
  detection: ['detection'],
};

/** Keys whose folders sit in the base directory rather than under models/. */
const BASE_TABLE: Record<string, string> = { custom_nodes: 'custom_nodes', datasets: 'datasets' };

/** Output subfolders ComfyUI appends (CheckpointSave and friends write there). */
const OUTPUT_SUBFOLDERS: Array<[string, string]> = [
  ['checkpoints', 'checkpoints'],
  ['text_encoders', 'clip'],
  ['vae', 'vae'],
  ['diffusion_models', 'diffusion_models'],
  ['loras', 'loras'],
];

const LEGACY: Record<string, string> = { unet: 'diffusion_models', clip: 'text_encoders' };

/** ComfyUI's folder_paths.map_legacy. */
export function mapLegacyKey(key: string): string {
  return LEGACY[key] ?? key;
}

/** Keys we never write model files into, although ComfyUI lists them. */
export const NOT_UPLOADABLE = new Set(['custom_nodes']);

/** key → folders in search order. */
export type FolderMap = Map<string, string[]>;

function addFolder(map: FolderMap, key: string, folder: string, isDefault: boolean): void {
  const k = mapLegacyKey(key);
  const list = map.get(k);
  if (!list) {
    map.set(k, [folder]);
    return;
  }
  const at = list.indexOf(folder);
  if (at >= 0) {
    if (isDefault && at !== 0) {
      list.splice(at, 1);
      list.unshift(folder);
    }
  } else if (isDefault) list.unshift(folder);
  else list.push(folder);
}

function expandPath(value: string): string {
  const withHome = value === '~' || value.startsWith('~/') ? homedir() + value.slice(1) : value;
  return withHome.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, a: string | undefined, b: string | undefined) => {
    const v = process.env[(a ?? b) as string];
    return v === undefined ? whole : v;
  });
}

/**
 * Applies one extra_model_paths yaml file the way utils/extra_config.py does. Problems that
 * would crash ComfyUI's own loader are reported through `warn` and skipped here.
 */
export function applyExtraModelPaths(map: FolderMap, yamlPath: string, warn: (m: string) => void): void {
  let config: unknown;
  try {
    config = parse(readFileSync(yamlPath, 'utf8'));
  } catch (error) {
    warn(`could not read extra model paths file ${yamlPath}: ${(error as Error).message}`);
    return;
  }
  if (!config || typeof config !== 'object') return;
  const yamlDir = dirname(resolve(yamlPath));
  for (const [section, raw] of Object.entries(config as Record<string, unknown>)) {
    if (raw === null || raw === undefined) continue;
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      warn(`${yamlPath}: section "${section}" is not a mapping; skipped`);
      continue;
    }
    const conf = { ...(raw as Record<string, unknown>) };
    let basePath: string | undefined;
    if (typeof conf.base_path === 'string') {
      basePath = expandPath(conf.base_path);
      if (!isAbsolute(basePath)) basePath = resolve(yamlDir, basePath);
    }
    delete conf.base_path;
    const isDefault = conf.is_default === true;
    delete conf.is_default;
    for (const [key, value] of Object.entries(conf)) {
      if (typeof value !== 'string') {
        warn(`${yamlPath}: ${section}.${key} is not a string (ComfyUI would fail to start on it); skipped`);
        continue;
      }
      for (const line of value.split('\n')) {
        if (line.length === 0) continue;
        const full = isAbsolute(line) ? line : basePath ? join(basePath, line) : resolve(yamlDir, line);
        addFolder(map, key, normalize(full).replace(/\/+$/, '') || '/', isDefault);
      }
    }
  }
}

/** Every folder key of a managed server and its folders, in ComfyUI's search order. */
export function resolveModelFolders(paths: AssetServerPaths, warn: (m: string) => void = () => {}): FolderMap {
  const map: FolderMap = new Map();
  const models = paths.modelsDirectory ?? join(paths.baseDirectory, 'models');
  for (const [key, subs] of Object.entries(MODEL_TABLE)) map.set(key, subs.map((s) => join(models, s)));
  for (const [key, sub] of Object.entries(BASE_TABLE)) map.set(key, [join(paths.baseDirectory, sub)]);
  // main.py loads <ComfyUI>/extra_model_paths.yaml first when it exists, then each --extra-model-paths-config.
  const beside = join(paths.comfyuiPath, 'extra_model_paths.yaml');
  const files = existsSync(beside) ? [beside, ...paths.extraModelPaths] : [...paths.extraModelPaths];
  for (const file of files) applyExtraModelPaths(map, file, warn);
  for (const [key, sub] of OUTPUT_SUBFOLDERS) addFolder(map, key, join(paths.outputDirectory, sub), false);
  for (const [key, list] of map) map.set(key, list.map((f) => resolve(f)));
  return map;
}

/** The roots whose contents the store may write or delete: every folder ComfyUI reads from. */
export function allowedRoots(paths: AssetServerPaths, folders: FolderMap): string[] {
  const roots = new Set<string>([paths.inputDirectory, paths.outputDirectory, paths.tempDirectory]);
  for (const [key, list] of folders) {
    if (NOT_UPLOADABLE.has(key)) continue;
    for (const f of list) roots.add(f);
  }
  return [...roots].map((r) => resolve(r));
}
