/**
 * A server for the browser oracle where no ComfyUI exists: the stand-in, serving the real frontend
 * package (installed by scripts/setup-oracle.sh) with the recorded node definitions.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { findDefinitionsFile, frontendStaticDir } from './corpus.js';

const root = resolve(import.meta.dirname, '..', '..');

export interface OracleServer {
  url: string;
  /** The /object_info the stand-in serves: what native conversion must be given too. */
  objectInfoPath: string;
  stop(): Promise<void>;
}

/** Why the oracle cannot run here, or undefined when it can. */
export function oracleUnavailable(chromiumPath: string | undefined): string | undefined {
  if (!chromiumPath) return 'no chromium (/usr/bin/chromium; apt-get install -y chromium): browser parity skipped';
  if (!frontendStaticDir()) return 'frontend package absent (run scripts/setup-oracle.sh): browser parity skipped';
  if (!findDefinitionsFile()) return 'no recorded object_info (test/fixtures/comfyui-0.33.0/object_info.json): browser parity skipped';
  return undefined;
}

export async function startOracleServer(): Promise<OracleServer> {
  const staticDir = frontendStaticDir();
  const objectInfoPath = findDefinitionsFile();
  if (!staticDir || !objectInfoPath) throw new Error(oracleUnavailable('chromium') ?? 'oracle unavailable');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(root, 'test/standin/main.ts'), '--port', '0', '--front-end-root', staticDir, '--object-info', objectInfoPath],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(/https?:\/\/127\.0\.0\.1:\d+/);
      if (match) resolveUrl(match[0]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the stand-in exited (${code}) before it was ready:\n${seen.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`the stand-in was not ready after 60 s:\n${seen.slice(-2000)}`)), 60_000).unref();
  });
  return {
    url,
    objectInfoPath,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
