import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import type { AssetServerPaths } from '../../src/assets/index.js';

export const COMFYUI_PATH = process.env.COMFYUI_PATH;
export const COMFYUI_PYTHON = process.env.COMFYUI_PYTHON;
export const REAL_SKIP = COMFYUI_PATH && COMFYUI_PYTHON ? false : 'COMFYUI_PATH/COMFYUI_PYTHON not set: real ComfyUI tests skipped';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface RealComfy {
  url: string;
  paths: AssetServerPaths;
  root: string;
  stop(): Promise<void>;
}

/**
 * Starts real ComfyUI on its own temp folders: --base-directory (with its own models/), input,
 * output and temp, an in-memory database. Nothing is written into the ComfyUI checkout.
 */
export async function startRealComfy(timeoutMs = 180_000): Promise<RealComfy> {
  return startComfyLike([COMFYUI_PYTHON as string, join(COMFYUI_PATH as string, 'main.py')], COMFYUI_PATH as string, timeoutMs);
}

/** The stand-in (test/standin/main.ts) takes ComfyUI's command line, so it starts the same way. */
export const STANDIN_MAIN = fileURLToPath(new URL('../standin/main.ts', import.meta.url));
export const STANDIN_SKIP = existsSync(STANDIN_MAIN) ? false : 'test/standin/main.ts does not exist yet: stand-in asset tests skipped';

export async function startStandin(timeoutMs = 60_000): Promise<RealComfy> {
  // Run from the repository so `--import tsx` resolves.
  return startComfyLike([process.execPath, '--import', 'tsx', STANDIN_MAIN], dirname(STANDIN_MAIN), timeoutMs, fileURLToPath(new URL('../..', import.meta.url)));
}

/** Starts ComfyUI (or anything with its command line) on throw-away folders. */
export async function startComfyLike(command: string[], comfyuiPath: string, timeoutMs: number, cwd?: string): Promise<RealComfy> {
  const root = mkdtempSync(join(tmpdir(), 'cc-assets-real-'));
  const base = join(root, 'base');
  const paths: AssetServerPaths = {
    comfyuiPath,
    baseDirectory: base,
    inputDirectory: join(root, 'input'),
    outputDirectory: join(root, 'output'),
    // ComfyUI puts its temp folder at <--temp-directory>/temp.
    tempDirectory: join(root, 'temp'),
    userDirectory: join(base, 'user'),
    extraModelPaths: [],
    instanceDirectory: root,
  };
  for (const d of [join(base, 'models'), join(base, 'custom_nodes'), paths.inputDirectory, paths.outputDirectory]) mkdirSync(d, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    command[0] as string,
    [
      ...command.slice(1), '--cpu', '--listen', '127.0.0.1', '--port', String(port),
      '--base-directory', base, '--input-directory', paths.inputDirectory, '--output-directory', paths.outputDirectory,
      '--temp-directory', root, '--database-url', 'sqlite:///:memory:', '--disable-auto-launch',
    ],
    { cwd: cwd ?? root, env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const log: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-(child.pid as number), 'SIGINT');
      } catch {
        /* gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ComfyUI not ready after ${timeoutMs} ms:\n${log.slice(-20).join('\n')}`)), timeoutMs);
      const onData = (d: Buffer): void => {
        const text = d.toString();
        log.push(...text.split('\n'));
        if (log.length > 400) log.splice(0, log.length - 400);
        if (text.includes('To see the GUI go to')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`ComfyUI exited with ${code}:\n${log.slice(-20).join('\n')}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, paths, root, stop };
}

/** Queues a prompt and waits for its history entry; throws with ComfyUI's answer when it fails. */
export async function runPrompt(url: string, prompt: Record<string, unknown>, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  const queued = await fetch(`${url}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt }) });
  const body = (await queued.json()) as { prompt_id?: string };
  if (!queued.ok || !body.prompt_id) throw new Error(`POST /prompt answered ${queued.status}: ${JSON.stringify(body)}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const history = (await (await fetch(`${url}/history/${body.prompt_id}`)).json()) as Record<string, { status?: { status_str?: string; completed?: boolean } }>;
    const entry = history[body.prompt_id];
    if (entry?.status?.completed || entry?.status?.status_str === 'error') {
      if (entry.status.status_str !== 'success') throw new Error(`prompt failed: ${JSON.stringify(entry.status)}`);
      return entry as Record<string, unknown>;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`prompt ${body.prompt_id} did not finish in ${timeoutMs} ms`);
}

export async function comboOptions(url: string, nodeClass: string, input: string): Promise<string[]> {
  const info = (await (await fetch(`${url}/object_info/${nodeClass}`)).json()) as Record<string, { input: { required: Record<string, unknown[]> } }>;
  const spec = info[nodeClass]?.input.required[input];
  const first = spec?.[0];
  if (Array.isArray(first)) return first as string[];
  const opts = spec?.[1] as { options?: string[] } | undefined;
  return opts?.options ?? [];
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A small RGBA PNG of one colour (alpha varies by row, so a mask upload has something to carry). */
export function makePng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6; // RGBA
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 4);
    for (let x = 0; x < width; x++) row.set([rgb[0], rgb[1], rgb[2], Math.round((255 * y) / Math.max(1, height - 1))], 1 + x * 4);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
