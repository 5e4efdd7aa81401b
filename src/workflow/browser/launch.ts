import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { BrowserError } from '../../errors.js';

/** Debian's chromium; we never download a browser. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

// Quiet, offline-friendly flags: no GPU, no first-run UI, nothing that phones home.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Profile folders carry the owning process id, so a later launch can remove those that a killed
// process (SIGKILL, a crashed test runner) could not.
const PROFILE_PREFIX = 'comfy-connector-chromium-';

async function removeOrphanedProfiles(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const pid = Number(/^comfy-connector-chromium-(\d+)-/.exec(name)?.[1]);
      if (!pid || pid === process.pid || isAlive(pid)) return;
      await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LaunchedBrowser {
  context: BrowserContext;
  /** Closes the browser and removes its private profile folder; idempotent. */
  close(): Promise<void>;
}

export interface LaunchOptions {
  executablePath?: string | undefined;
  /** Sent with every request to the ComfyUI origin (e.g. an auth header of a remote server). */
  headers?: Record<string, string> | undefined;
}

/** Where chromium is, or why there is none: tests use this to skip with one line. */
export function findChromium(executablePath?: string): string | undefined {
  const path = executablePath ?? process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM_PATH;
  return existsSync(path) ? path : undefined;
}

/** Starts one headless chromium with a fresh profile folder that close() removes again. */
export async function launchChromium(options: LaunchOptions): Promise<LaunchedBrowser> {
  const executablePath = options.executablePath ?? process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM_PATH;
  if (!existsSync(executablePath)) {
    throw new BrowserError(`no chromium at ${executablePath}`);
  }
  // playwright-core is loaded lazily so that the library works without it for native conversion.
  const { chromium } = await import('playwright-core');
  await removeOrphanedProfiles();
  const userDataDir = await mkdtemp(join(tmpdir(), `${PROFILE_PREFIX}${process.pid}-`));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      // The frontend translates node titles by locale and formats %date:…% by time zone:
      // pin both to what this Node process uses so the native converter sees the same.
      locale: 'en-US',
      timezoneId: Intl.DateTimeFormat().resolvedOptions().timeZone,
      viewport: { width: 1280, height: 800 },
      ...(options.headers ? { extraHTTPHeaders: options.headers } : {}),
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw new BrowserError(`chromium at ${executablePath} did not start: ${(error as Error).message}`, error);
  }
  let closed: Promise<void> | undefined;
  return {
    context,
    close() {
      closed ??= (async () => {
        await context.close().catch(() => undefined);
        await rm(userDataDir, { recursive: true, force: true, maxRetries: 3 });
      })();
      return closed;
    },
  };
}
