/**
 * A server for the browser oracle where no ComfyUI exists: the stand-in (test/standin/main.ts),
 * serving the real frontend package installed by scripts/setup-oracle.sh (--front-end-root) and
 * the recorded node definitions. Everything it writes goes to one temp folder that stop() removes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findChromium } from '../../src/workflow/browser.js';
import { DEFAULT_FRONTEND_VERSION, findDefinitionsFile, frontendStaticDir } from './corpus.js';

const root = resolve(import.meta.dirname, '..', '..');

export interface OracleServer {
  url: string;
  stop(): Promise<void>;
}

/** Why the oracle cannot run here (one line, for a test skip), or undefined when it can. */
export function oracleUnavailable(version: string = DEFAULT_FRONTEND_VERSION): string | undefined {
  if (!findChromium()) return 'no chromium at /usr/bin/chromium (apt-get install -y chromium): browser parity skipped';
  if (!frontendStaticDir(version)) return `ComfyUI frontend package ${version} absent (bash scripts/setup-oracle.sh): browser parity skipped`;
  if (!findDefinitionsFile()) return 'no recorded object_info (test/fixtures/comfyui-0.33.0/object_info.json): browser parity skipped';
  return undefined;
}

/** The node definitions a server hands out: what the native converter must be given for parity. */
export async function fetchObjectInfo(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(new URL('/object_info', url));
  if (!response.ok) throw new Error(`GET ${url}/object_info answered ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

export async function startOracleServer(version: string = DEFAULT_FRONTEND_VERSION): Promise<OracleServer> {
  const staticDir = frontendStaticDir(version);
  if (!staticDir) throw new Error(oracleUnavailable(version) ?? `the frontend package ${version} is absent`);
  const work = mkdtempSync(join(tmpdir(), 'comfy-connector-oracle-'));
  const dirs = Object.fromEntries(['input', 'output', 'temp', 'user'].map((d) => [d, join(work, d)]));
  for (const dir of Object.values(dirs)) mkdirSync(dir);
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', resolve(root, 'test/standin/main.ts'),
      '--listen', '127.0.0.1', '--port', String(port), '--front-end-root', staticDir,
      '--input-directory', dirs.input!, '--output-directory', dirs.output!,
      '--temp-directory', dirs.temp!, '--user-directory', dirs.user!,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(work, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((ready, reject) => {
      let seen = '';
      const onData = (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('To see the GUI go to:')) ready();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`the stand-in exited (${code}) before it was ready:\n${seen.slice(-2000)}`)));
      setTimeout(() => reject(new Error(`the stand-in was not ready after 60 s:\n${seen.slice(-2000)}`)), 60_000).unref();
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}
