import { join } from 'node:path';
import type { ServerPaths } from './options.js';

export interface CommandParts {
  /** [python, main.py] or the user's replacement. */
  base: string[];
  host: string;
  port: number;
  paths: ServerPaths;
  cpu: boolean;
  cudaDevice: number | undefined;
  /** Folders given explicitly (or synthesised), passed as flags. */
  explicit: { input: boolean; output: boolean; user: boolean };
  extraArgs: string[];
}

/** The full argv of one ComfyUI start. */
export function buildCommand(parts: CommandParts): string[] {
  const { paths } = parts;
  const argv = [
    ...parts.base,
    '--listen', parts.host,
    '--port', String(parts.port),
    // Per instance: ComfyUI empties <temp>/temp at start, and a shared database file is locked.
    '--temp-directory', paths.instanceDirectory,
    '--database-url', `sqlite:///${instanceDatabasePath(paths)}`,
  ];
  if (parts.cpu) argv.push('--cpu');
  else if (parts.cudaDevice !== undefined) argv.push('--cuda-device', String(parts.cudaDevice));
  if (parts.explicit.input) argv.push('--input-directory', paths.inputDirectory);
  if (parts.explicit.output) argv.push('--output-directory', paths.outputDirectory);
  if (parts.explicit.user) argv.push('--user-directory', paths.userDirectory);
  for (const file of paths.extraModelPaths) argv.push('--extra-model-paths-config', file);
  argv.push(...parts.extraArgs);
  return argv;
}

/** The instance's own database file (a later `--database-url` in extraArgs overrides it). */
export function instanceDatabasePath(paths: Pick<ServerPaths, 'instanceDirectory'>): string {
  return join(paths.instanceDirectory, 'comfyui.db');
}

/** The value of a `--flag value` or `--flag=value` in argv (last one wins, as in argparse). */
export function flagValue(argv: string[], flag: string): string | undefined {
  let found: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === flag && i + 1 < argv.length) found = argv[i + 1];
    else if (arg.startsWith(`${flag}=`)) found = arg.slice(flag.length + 1);
  });
  return found;
}

/** The URL a client uses: a wildcard listen address is reached through loopback. */
export function clientUrl(host: string, port: number, tls: boolean): string {
  let address = host.split(',')[0]?.trim() || '127.0.0.1';
  if (address === '0.0.0.0') address = '127.0.0.1';
  if (address === '::') address = '::1';
  if (address.includes(':')) address = `[${address}]`;
  return `${tls ? 'https' : 'http'}://${address}:${port}`;
}
