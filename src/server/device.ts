import { existsSync } from 'node:fs';
import { findExecutable } from './python.js';

/**
 * Whether ComfyUI needs --cpu. Without a GPU it crashes at import while querying CUDA, so 'auto'
 * adds --cpu unless an NVIDIA GPU is visible. macOS runs on MPS and never needs it.
 */
export function needsCpuFlag(device: 'auto' | 'cpu' | 'gpu', env: NodeJS.ProcessEnv = process.env): boolean {
  if (device === 'cpu') return true;
  if (device === 'gpu') return false;
  if (process.platform === 'darwin') return false;
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && (visible.trim() === '' || visible.trim() === '-1')) return true;
  return !nvidiaGpuVisible(env);
}

export function nvidiaGpuVisible(env: NodeJS.ProcessEnv = process.env): boolean {
  return existsSync('/dev/nvidia0') || findExecutable('nvidia-smi', env) !== undefined;
}
