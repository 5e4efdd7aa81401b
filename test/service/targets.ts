// The ComfyUI servers the service suites run their in-process worker on: the stand-in always, real
// ComfyUI when COMFYUI_PATH/COMFYUI_PYTHON are set (the contract suite's style: same assertions).
// Input, output and user folders are temp folders, so the ComfyUI checkout is left as it was.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateOptions } from '../../src/connector.js';
import { contractTargets, TEST_NODES_CONFIG, type TargetName } from '../helpers/targets.js';

export interface ServiceTarget {
  name: TargetName;
  skip: string | undefined;
  /** Server options for one managed server with its folders under `root`. */
  server(root: string): CreateOptions;
  /** The command line (for the CLI's COMFY_CONNECTOR_COMMAND or --comfyui). */
  command(): string[];
}

export function serviceTargets(): ServiceTarget[] {
  return contractTargets().map((t) => ({
    name: t.name,
    skip: t.skip,
    command: () => t.command(),
    server(root: string): CreateOptions {
      const dirs = { inputDirectory: join(root, 'input'), outputDirectory: join(root, 'output'), userDirectory: join(root, 'user') };
      for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
      const base = t.name === 'standin'
        ? { command: t.command() }
        : { comfyuiPath: process.env.COMFYUI_PATH!, python: process.env.COMFYUI_PYTHON! };
      return { ...base, ...dirs, extraModelPaths: [TEST_NODES_CONFIG], device: 'cpu', startTimeout: 300_000 };
    },
  }));
}

export const tempRoot = (prefix: string) => mkdtempSync(join(tmpdir(), `svc-${prefix}-`));
