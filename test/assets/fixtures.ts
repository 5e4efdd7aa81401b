import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AssetServerPaths, ImageRef, UploadClient, UploadResponse } from '../../src/assets/index.js';

/** A throw-away ComfyUI folder layout (no ComfyUI in it): base/models, input, output, temp, user. */
export function tempComfyTree(): { paths: AssetServerPaths; root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'cc-assets-'));
  const base = join(root, 'base');
  const paths: AssetServerPaths = {
    comfyuiPath: join(root, 'ComfyUI'),
    baseDirectory: base,
    inputDirectory: join(base, 'input'),
    outputDirectory: join(base, 'output'),
    tempDirectory: join(root, 'instance', 'temp'),
    userDirectory: join(base, 'user'),
    extraModelPaths: [],
    instanceDirectory: join(root, 'instance'),
  };
  for (const d of [paths.comfyuiPath, paths.inputDirectory, paths.outputDirectory, paths.tempDirectory, paths.userDirectory, join(base, 'models')]) {
    mkdirSync(d, { recursive: true });
  }
  return { paths, root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Does on disk what ComfyUI's /upload/image does (server.py image_upload, v0.33.0): same
 * collision rule, same answer. Lets the store's route logic run without a server.
 */
export class DiskRouteClient implements UploadClient {
  calls: Array<{ filename: string; subfolder?: string; type?: string; overwrite?: boolean; mask?: ImageRef }> = [];
  /** Set to make the next upload land on a different name than the store predicted. */
  beforeWrite: ((dir: string) => void) | undefined;

  constructor(private readonly paths: AssetServerPaths) {}

  private dir(type: string | undefined): string {
    return type === 'output' ? this.paths.outputDirectory : type === 'temp' ? this.paths.tempDirectory : this.paths.inputDirectory;
  }

  async uploadImage(o: { data: Buffer | Blob; filename: string; subfolder?: string; type?: 'input' | 'output' | 'temp'; overwrite?: boolean }): Promise<UploadResponse> {
    this.calls.push({ filename: o.filename, ...(o.subfolder !== undefined ? { subfolder: o.subfolder } : {}), ...(o.type ? { type: o.type } : {}), ...(o.overwrite !== undefined ? { overwrite: o.overwrite } : {}) });
    const data = Buffer.isBuffer(o.data) ? o.data : Buffer.from(await o.data.arrayBuffer());
    const dir = join(this.dir(o.type), normalize(o.subfolder ?? ''));
    mkdirSync(dir, { recursive: true });
    this.beforeWrite?.(dir);
    this.beforeWrite = undefined;
    let filename = o.filename;
    const dot = filename.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [filename.slice(0, dot), filename.slice(dot)] : [filename, ''];
    let duplicate = false;
    if (!o.overwrite) {
      for (let i = 1; existsSync(join(dir, filename)); i++) {
        if (sha(readFileSync(join(dir, filename))) === sha(data)) {
          duplicate = true;
          break;
        }
        filename = `${stem} (${i})${ext}`;
      }
    }
    if (!duplicate) writeFileSync(join(dir, filename), data);
    return { name: filename, subfolder: o.subfolder ?? '', type: o.type ?? 'input' };
  }

  async uploadMask(o: { data: Buffer | Blob; filename: string; subfolder?: string; type?: 'input' | 'output' | 'temp'; overwrite?: boolean; originalRef: ImageRef }): Promise<UploadResponse> {
    return this.uploadImage(o);
  }

  async models(): Promise<string[]> {
    return ['checkpoints', 'loras', 'vae'];
  }
}

/** A client that fails the test if called: for checks that must stop before any upload. */
export class ForbiddenClient implements UploadClient {
  async uploadImage(): Promise<UploadResponse> {
    throw new Error('uploadImage must not be called');
  }
  async uploadMask(): Promise<UploadResponse> {
    throw new Error('uploadMask must not be called');
  }
}

/** Every file below `dir`, relative, sorted; for "nothing was written" assertions. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    if (!existsSync(d)) return;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(join(d, entry.name), rel);
      else out.push(rel);
    }
  };
  walk(dir, '');
  return out.sort();
}


/**
 * Runs test/assets/crash-child.ts (uploads ephemeral files, optionally through a real server at
 * `url`), calls `whileAlive` once it is done, then SIGKILLs it and waits for it to be gone.
 */
export async function killedUploader(
  t: { after: (fn: () => void) => void },
  paths: AssetServerPaths,
  url: string | undefined,
  whileAlive: () => void,
): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./crash-child.ts', import.meta.url)), JSON.stringify(paths), ...(url ? [url] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = once(child, 'exit');
  let out = '';
  child.stdout?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: string) => {
      out += d;
      if (out.includes('READY')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the uploader exited early with ${code}`)));
  });
  whileAlive();
  child.kill('SIGKILL');
  const [, signal] = await exited;
  if (signal !== 'SIGKILL') throw new Error(`the uploader ended with ${String(signal)}, not SIGKILL`);
}
