// folder_paths.py in small: the model folder table, the input/output/temp/user roots and the
// extra_model_paths.yaml loader. Listings are recomputed on every call (no mtime cache needed here).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { log } from './log.js';

const PT = ['.ckpt', '.pt', '.pt2', '.bin', '.pth', '.safetensors', '.pkl', '.sft'];

export interface ModelFolder { paths: string[]; extensions: string[] | 'any' | 'folder' | 'none' }

export interface Paths {
  base: string;
  input: string;
  output: string;
  temp: string;
  user: string;
  models: Map<string, ModelFolder>;
  /** Every custom_nodes directory (base + extra configs), searched for node packs. */
  customNodeDirs(): string[];
}

export function buildPaths(options: {
  baseDirectory?: string | undefined;
  inputDirectory?: string | undefined;
  outputDirectory?: string | undefined;
  tempDirectory?: string | undefined;
  userDirectory?: string | undefined;
  extraModelPathsConfigs: string[];
}): Paths {
  // Real ComfyUI defaults to its source folder; the stand-in has none worth writing into.
  const base = resolve(options.baseDirectory ?? join(tmpdir(), 'comfy-standin-base'));
  const modelsDir = join(base, 'models');
  const m = (name: string) => join(modelsDir, name);
  const models = new Map<string, ModelFolder>();
  const add = (key: string, paths: string[], extensions: ModelFolder['extensions']) => models.set(key, { paths, extensions });
  add('checkpoints', [m('checkpoints')], PT);
  add('configs', [m('configs')], ['.yaml']);
  add('loras', [m('loras')], PT);
  add('vae', [m('vae')], PT);
  add('text_encoders', [m('text_encoders'), m('clip')], PT);
  add('diffusion_models', [m('unet'), m('diffusion_models')], PT);
  add('clip_vision', [m('clip_vision')], PT);
  add('style_models', [m('style_models')], PT);
  add('embeddings', [m('embeddings')], PT);
  add('diffusers', [m('diffusers')], 'folder');
  add('vae_approx', [m('vae_approx')], PT);
  add('controlnet', [m('controlnet'), m('t2i_adapter')], PT);
  add('gligen', [m('gligen')], PT);
  add('upscale_models', [m('upscale_models')], PT);
  add('latent_upscale_models', [m('latent_upscale_models')], PT);
  add('custom_nodes', [join(base, 'custom_nodes')], 'any');
  add('datasets', [join(base, 'datasets')], 'any');
  add('hypernetworks', [m('hypernetworks')], PT);
  add('photomaker', [m('photomaker')], PT);
  add('classifiers', [m('classifiers')], 'none');
  for (const k of ['model_patches', 'audio_encoders', 'background_removal', 'frame_interpolation', 'geometry_estimation', 'optical_flow', 'detection']) add(k, [m(k)], PT);

  // Extra configs load before the directory overrides are announced, as in main.py.
  for (const file of options.extraModelPathsConfigs) loadExtraPathConfig(file, models);
  const output = resolve(options.outputDirectory ?? join(base, 'output'));
  if (options.outputDirectory) log.info(`Setting output directory to: ${output}`);
  const input = resolve(options.inputDirectory ?? join(base, 'input'));
  if (options.inputDirectory) log.info(`Setting input directory to: ${input}`);
  const user = resolve(options.userDirectory ?? join(base, 'user'));
  if (options.userDirectory) log.info(`Setting user directory to: ${user}`);
  const temp = options.tempDirectory ? join(resolve(options.tempDirectory), 'temp') : join(base, 'temp');

  // ComfyUI appends these output subfolders after the extra configs.
  for (const [key, sub] of [['checkpoints', 'checkpoints'], ['text_encoders', 'clip'], ['vae', 'vae'], ['diffusion_models', 'diffusion_models'], ['loras', 'loras']] as const) {
    models.get(key)!.paths.push(join(output, sub));
  }

  return {
    base, input, output, temp, user, models,
    customNodeDirs: () => models.get('custom_nodes')!.paths.slice(),
  };
}

function loadExtraPathConfig(file: string, models: Map<string, ModelFolder>): void {
  const config = parseYaml(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown> | null> | null;
  const yamlDir = dirname(resolve(file));
  for (const section of Object.values(config ?? {})) {
    if (!section) continue;
    const conf = { ...section };
    let basePath: string | undefined;
    if ('base_path' in conf) {
      basePath = String(conf.base_path).replace(/^~/, process.env.HOME ?? '~');
      if (!isAbsolute(basePath)) basePath = resolve(yamlDir, basePath);
      delete conf.base_path;
    }
    let isDefault = false;
    if ('is_default' in conf) { isDefault = Boolean(conf.is_default); delete conf.is_default; }
    for (const [rawKey, value] of Object.entries(conf)) {
      if (typeof value !== 'string') throw new Error(`'${typeof value}' object has no attribute 'split'`);
      const key = rawKey === 'unet' ? 'diffusion_models' : rawKey === 'clip' ? 'text_encoders' : rawKey;
      for (const line of value.split('\n')) {
        if (!line) continue;
        const full = normalize(basePath ? join(basePath, line) : isAbsolute(line) ? line : resolve(yamlDir, line)).replace(/\/$/, '');
        log.info(`Adding extra search path ${rawKey} ${full}`);
        const folder = models.get(key) ?? { paths: [], extensions: 'any' as const };
        if (!folder.paths.includes(full)) {
          if (isDefault) folder.paths.unshift(full);
          else folder.paths.push(full);
        }
        models.set(key, folder);
      }
    }
  }
}

function walk(root: string, dir = root, out: string[] = []): string[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    if (name === '.git') continue;
    const full = join(dir, name);
    let st;
    try { st = statSync(full); } catch { continue; }
    if (st.isDirectory()) walk(root, full, out);
    else out.push(relative(root, full));
  }
  return out;
}

/** get_filename_list: sorted relative paths of matching files across the folder's paths. */
export function listModelFiles(folder: ModelFolder): string[] {
  const found = new Set<string>();
  for (const p of folder.paths) {
    if (!existsSync(p)) continue;
    for (const rel of walk(p)) {
      const lower = rel.toLowerCase();
      const ext = lower.includes('.') ? lower.slice(lower.lastIndexOf('.')) : '';
      const ok = folder.extensions === 'any' ? true
        : folder.extensions === 'folder' ? false
          : folder.extensions === 'none' ? !rel.split(sep).pop()!.includes('.')
            : folder.extensions.includes(ext);
      if (ok) found.add(rel);
    }
  }
  return [...found].sort();
}

/** True when `child` is `root` or inside it (os.path.commonpath check). */
export function isInside(root: string, child: string): boolean {
  const rel = relative(resolve(root), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
