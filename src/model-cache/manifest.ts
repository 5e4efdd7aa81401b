import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UploadError } from '../errors.js';
import { fetchToFile, isUrlSource } from '../sources/fetch.js';
import type { FetchOptions } from '../sources/types.js';

/** One model to fetch: where it goes, from where, and (ideally) its hash. */
export interface ModelSpec {
  /** Model folder key: 'checkpoints', 'loras', 'vae', ... */
  to: string;
  /** http(s):// or s3:// URL. */
  source: string;
  /** File name in the folder; default the URL's last segment. */
  name?: string | undefined;
  subfolder?: string | undefined;
  sha256?: string | undefined;
}

/**
 * Reads a manifest: a JSON or YAML list of models (`[{ to, source|url, name?, subfolder?, sha256? }]`,
 * or `{ models: [...] }`), from a URL (under the fetch policy) or, for a local caller, a file.
 */
export async function loadManifest(location: string, options: FetchOptions & { localPaths?: boolean } = {}): Promise<ModelSpec[]> {
  let text: string;
  if (isUrlSource(location)) {
    const dir = await mkdtemp(join(tmpdir(), 'comfy-manifest-'));
    try {
      const got = await fetchToFile(location, { path: join(dir, 'manifest') }, { maxBytes: 4 * 1024 * 1024, ...options });
      text = await readFile(got.path, 'utf8');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } else {
    if (options.localPaths === false) throw new UploadError(`manifest ${JSON.stringify(location)}`, 'only a URL is accepted here (a string from the network is never read as a local path).');
    text = await readFile(location, 'utf8');
  }
  return parseManifest(text, location);
}

export function parseManifest(text: string, where = 'manifest'): ModelSpec[] {
  let data: unknown;
  try {
    data = parseYaml(text); // YAML is a superset of JSON
  } catch (error) {
    throw new UploadError(where, `it is neither JSON nor YAML: ${(error as Error).message}`);
  }
  const list = Array.isArray(data) ? data : (data as { models?: unknown })?.models;
  if (!Array.isArray(list)) throw new UploadError(where, 'a manifest is a list of models, or { models: [...] }.');
  return list.map((raw, i) => {
    const m = raw as Record<string, unknown>;
    const source = (m.source ?? m.url) as unknown;
    if (typeof m.to !== 'string' || typeof source !== 'string') throw new UploadError(`${where} entry ${i}`, 'each model needs "to" (a model folder key) and "source" (a URL).');
    const spec: ModelSpec = { to: m.to, source };
    for (const k of ['name', 'subfolder', 'sha256'] as const) if (typeof m[k] === 'string') spec[k] = m[k] as string;
    return spec;
  });
}
