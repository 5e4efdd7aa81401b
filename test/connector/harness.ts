// Shared pieces of the facade's integration tests: the two targets (the stand-in always, real
// ComfyUI when COMFYUI_PATH/COMFYUI_PYTHON are set), process checks, prompts and a PNG text reader.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import type { CreateOptions } from '../../src/connector.js';
import type { ApiPrompt, UiWorkflow } from '../../src/workflow/index.js';
import { groupAlive, processAlive } from '../../src/server/process-group.js';
import { REAL_SKIP, REPO_ROOT, TEST_NODES_CONFIG } from '../helpers/targets.js';

export { REPO_ROOT, TEST_NODES_CONFIG };

export type TargetName = 'standin' | 'comfyui';

export interface ConnectorTarget {
  name: TargetName;
  /** Set when this target cannot run here; pass to node:test's `skip`. */
  skip: string | undefined;
  /**
   * Options for create()/launch() with a fresh base directory of our own (models, input, output,
   * user live there, never in the real ComfyUI checkout). `cleanup` removes it.
   */
  options(extra?: CreateOptions): { options: CreateOptions; base: string; cleanup: () => void };
}

export const STANDIN_COMMAND = [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test', 'standin', 'main.ts')];

/** A generous start timeout: the test machine is shared and loaded. */
const START_TIMEOUT_MS = 180_000;

export function makeBase(prefix = 'connector-base-'): { base: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), prefix));
  // Real ComfyUI lists <base>/custom_nodes at start and exits when it is missing.
  mkdirSync(join(base, 'custom_nodes'));
  const cleanup = () => {
    // Deleting the folder under a running server hides whatever the server would still write or
    // fail at: stop servers first (see stopThenDelete). Removed either way, then reported.
    const users = pidsUsing(base);
    // Killed so that the failure below does not leave them running (later after-hooks do not run).
    for (const pid of users) { try { process.kill(-pid, 'SIGKILL'); } catch { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } }
    rmSync(base, { recursive: true, force: true });
    if (users.length > 0) throw new Error(`${base} was deleted while pid ${users.join(', ')} still ran with it: stop the server before deleting its folder`);
  };
  return { base, cleanup };
}

/**
 * `t.after` hooks run in the order they were registered, so registering "delete the base" first
 * (needed when create() throws) would delete it before the server stops. One hook instead: what
 * `stopFirst` registers runs first (last registered first), then `cleanup`.
 */
export function stopThenDelete(t: { after(fn: () => unknown): void }, cleanup: () => void): (stop: () => unknown) => void {
  const stops: Array<() => unknown> = [];
  t.after(async () => {
    try {
      for (const stop of stops.reverse()) await stop();
    } finally {
      cleanup();
    }
  });
  return (stop) => { stops.push(stop); };
}

/** Live processes whose command line names `path` (a server started with --base-directory path). */
export function pidsUsing(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').includes(path) && processAlive(Number(entry))) pids.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

export function connectorTargets(): ConnectorTarget[] {
  const real = process.env.COMFYUI_PATH && process.env.COMFYUI_PYTHON;
  const withBase = (common: CreateOptions) => (extra: CreateOptions = {}) => {
    const { base, cleanup } = makeBase();
    const options: CreateOptions = {
      ...common,
      startTimeout: START_TIMEOUT_MS,
      extraModelPaths: [TEST_NODES_CONFIG],
      ...extra,
      extraArgs: ['--base-directory', base, ...(extra.extraArgs ?? [])],
    };
    return { options, base, cleanup };
  };
  return [
    { name: 'standin', skip: undefined, options: withBase({ command: STANDIN_COMMAND }) },
    {
      name: 'comfyui',
      skip: real ? undefined : REAL_SKIP,
      options: withBase(real ? { comfyuiPath: process.env.COMFYUI_PATH!, python: process.env.COMFYUI_PYTHON!, device: 'cpu' } : {}),
    },
  ];
}

/** True while the process runs (zombies count as gone). */
export function alive(pid: number | undefined): boolean {
  return pid !== undefined && processAlive(pid);
}

export { groupAlive };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until none of the pids lives; returns the ones still alive after `ms`. */
export async function waitDead(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter((p) => processAlive(p));
    if (left.length === 0 || Date.now() >= deadline) return left;
    await sleep(20);
  }
}

/** EmptyImage → ImageInvert → SaveImage, all model-free core nodes. */
export function invertPrompt(prefix: string, width = 16, height = 8): ApiPrompt {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width, height, batch_size: 1, color: 0 }, _meta: { title: 'Empty' } },
    '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
    '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: prefix } },
  };
}

/** A prompt that runs ComfyConnectorSlowCounter for steps × delayMs. */
export function slowPrompt(steps: number, delayMs: number): ApiPrompt {
  return { '1': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps, delay_ms: delayMs } } };
}

/** The same graph as invertPrompt, as the frontend saves it (node 1 titled "Canvas"). */
export function invertUiWorkflow(prefix: string, width = 24, height = 8): UiWorkflow {
  return {
    last_node_id: 3,
    last_link_id: 2,
    nodes: [
      {
        id: 1, type: 'EmptyImage', title: 'Canvas', pos: [0, 0], size: [300, 130], flags: {}, order: 0, mode: 0,
        inputs: [], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [1], slot_index: 0 }],
        properties: { 'Node name for S&R': 'EmptyImage' }, widgets_values: [width, height, 1, 0],
      },
      {
        id: 2, type: 'ImageInvert', pos: [350, 0], size: [200, 30], flags: {}, order: 1, mode: 0,
        inputs: [{ name: 'image', type: 'IMAGE', link: 1 }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [2], slot_index: 0 }],
        properties: { 'Node name for S&R': 'ImageInvert' },
      },
      {
        id: 3, type: 'SaveImage', pos: [600, 0], size: [300, 270], flags: {}, order: 2, mode: 0,
        inputs: [{ name: 'images', type: 'IMAGE', link: 2 }], outputs: [],
        properties: { 'Node name for S&R': 'SaveImage' }, widgets_values: [prefix],
      },
    ],
    links: [[1, 1, 0, 2, 0, 'IMAGE'], [2, 2, 0, 3, 0, 'IMAGE']],
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  };
}

/** LoadImage → ImageInvert → SaveImage: the image comes from `inputs`. */
export function loadImagePrompt(prefix: string): ApiPrompt {
  return {
    '1': { class_type: 'LoadImage', inputs: { image: 'placeholder.png' } },
    '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
    '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: prefix } },
  };
}

/** Width and height from a PNG's IHDR. */
export function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** The tEXt / zTXt / iTXt chunks of a PNG, keyword → text. */
export function pngTexts(png: Buffer): Record<string, string> {
  const texts: Record<string, string> = {};
  let offset = 8;
  while (offset + 8 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    const nul = data.indexOf(0);
    if (type === 'tEXt' && nul > 0) texts[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    else if (type === 'zTXt' && nul > 0) texts[data.toString('latin1', 0, nul)] = inflateSync(data.subarray(nul + 2)).toString('latin1');
    else if (type === 'iTXt' && nul > 0) {
      const compressed = data[nul + 1] === 1;
      let p = nul + 3;
      p = data.indexOf(0, p) + 1; // language tag
      p = data.indexOf(0, p) + 1; // translated keyword
      const body = data.subarray(p);
      texts[data.toString('latin1', 0, nul)] = (compressed ? inflateSync(body) : body).toString('utf8');
    }
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  return texts;
}

/** A tiny valid 8-bit RGB PNG (w×h, one colour), for LoadImage inputs. */
export function tinyPng(width: number, height: number, rgb: [number, number, number] = [10, 200, 30]): Buffer {
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(buf: Buffer): number {
  let c = -1;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return c ^ -1;
}

/** The parent pid of a process, from /proc/<pid>/stat; undefined when it is gone. */
function parentPid(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Pids of the live chromium processes that descend from `ancestor` (default: this process). */
export function chromiumPids(ancestor = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      if (!/chrom/i.test(cmd.split('\0')[0] ?? '') || !processAlive(pid)) continue;
    } catch {
      continue; // gone meanwhile
    }
    for (let p = parentPid(pid); p !== undefined && p > 1; p = parentPid(p)) {
      if (p === ancestor) {
        pids.push(pid);
        break;
      }
    }
  }
  return pids;
}
