import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { FileRef, HistoryEntry, ViewOptions } from './types.js';

export type OutputKind = 'image' | 'animated' | 'video' | 'audio' | '3d' | 'text' | 'unknown';

export interface OutputFile {
  node: string;
  kind: OutputKind;
  filename: string;
  subfolder: string;
  type: 'output' | 'temp' | 'input';
  /** The key of the node's UI output the file came from (images, gifs, audio, …). */
  key: string;
}

export interface RunResult {
  promptId: string;
  /** The /history/<id> entry, as ComfyUI returned it. */
  history: HistoryEntry;
  /** Every file of every output node. */
  outputs: OutputFile[];
  /** Partial node_errors of a 200 (outputs that failed validation and did not run); empty when none. */
  nodeErrors: Record<string, unknown>;
  /** Text outputs per node (the 'text' key, e.g. PreviewAny). */
  texts: Record<string, string[]>;
  files(): Promise<Array<OutputFile & { data: Buffer }>>;
  /** Writes every output file into dir under its base name; returns the paths written. */
  save(dir: string): Promise<string[]>;
}

const VIDEO_EXT = new Set(['.mp4', '.webm', '.mov', '.mkv', '.avi', '.m4v']);
const ANIMATED_EXT = new Set(['.gif', '.apng']);
const AUDIO_EXT = new Set(['.flac', '.mp3', '.wav', '.ogg', '.opus', '.m4a', '.aac']);
const MESH_EXT = new Set(['.glb', '.gltf', '.obj', '.fbx', '.stl', '.ply', '.usdz']);

const KEY_KIND: Record<string, OutputKind> = {
  images: 'image',
  gifs: 'animated',
  animated: 'animated',
  video: 'video',
  videos: 'video',
  audio: 'audio',
  '3d': '3d',
  mesh: '3d',
  meshes: '3d',
  model_file: '3d',
  result: '3d',
};

function isFileRef(x: unknown): x is FileRef {
  return typeof x === 'object' && x !== null && typeof (x as FileRef).filename === 'string';
}

function kindFor(key: string, filename: string, animatedFlag: boolean): OutputKind {
  const ext = extname(filename).toLowerCase();
  // The extension is more precise than the key: VHS puts mp4 files under 'gifs'.
  if (VIDEO_EXT.has(ext)) return 'video';
  if (AUDIO_EXT.has(ext)) return 'audio';
  if (MESH_EXT.has(ext)) return '3d';
  if (ANIMATED_EXT.has(ext)) return 'animated';
  const byKey = KEY_KIND[key];
  if (byKey === 'image' && animatedFlag) return 'animated';
  return byKey ?? 'unknown';
}

function fileType(t: unknown): OutputFile['type'] {
  return t === 'temp' || t === 'input' ? t : 'output';
}

/** Every file and text of a history entry's outputs, in node order. */
export function collectOutputs(history: HistoryEntry): { outputs: OutputFile[]; texts: Record<string, string[]> } {
  const outputs: OutputFile[] = [];
  const texts: Record<string, string[]> = {};
  for (const [node, ui] of Object.entries(history.outputs ?? {})) {
    if (!ui || typeof ui !== 'object') continue;
    // SaveAnimatedWEBP/PNG mark their 'images' with animated: [true].
    const animatedFlag = Array.isArray(ui['animated']) && ui['animated'].some((v) => v === true);
    for (const [key, value] of Object.entries(ui)) {
      const items = Array.isArray(value) ? value : [value];
      if (key === 'text') {
        const strings = items.filter((v): v is string => typeof v === 'string');
        if (strings.length) (texts[node] ??= []).push(...strings);
        continue;
      }
      for (const item of items) {
        if (!isFileRef(item)) continue;
        outputs.push({
          node,
          kind: kindFor(key, item.filename, animatedFlag),
          filename: item.filename,
          subfolder: typeof item.subfolder === 'string' ? item.subfolder : '',
          type: fileType(item.type),
          key,
        });
      }
    }
  }
  return { outputs, texts };
}

/** A name that cannot leave dir: the base name only, never '.', '..' or empty. */
export function safeFileName(name: string): string {
  const base = basename(name.replace(/\\/g, '/')).replace(/\0/g, '');
  return base === '' || base === '.' || base === '..' ? 'output' : base;
}

export function buildRunResult(
  promptId: string,
  history: HistoryEntry,
  nodeErrors: Record<string, unknown>,
  view: (ref: ViewOptions) => Promise<Buffer>,
): RunResult {
  const { outputs, texts } = collectOutputs(history);
  const files = async () => Promise.all(outputs.map(async (o) => ({ ...o, data: await view(o) })));
  return {
    promptId,
    history,
    outputs,
    nodeErrors,
    texts,
    files,
    async save(dir: string) {
      await mkdir(dir, { recursive: true });
      const taken = new Set<string>();
      const written: string[] = [];
      for (const file of await files()) {
        const name = uniqueName(safeFileName(file.filename), taken);
        const path = join(dir, name);
        await writeFile(path, file.data);
        written.push(path);
      }
      return written;
    },
  };
}

/** Two outputs may share a base name (different subfolders or types): number the later ones. */
function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 1; taken.has(candidate); i++) candidate = `${stem} (${i})${ext}`;
  taken.add(candidate);
  return candidate;
}
