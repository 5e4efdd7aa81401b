import type { Page, Request } from 'playwright-core';
import { BrowserError, InvalidWorkflowError, UnknownNodeTypeError } from '../errors.js';
import { launchChromium, type LaunchedBrowser } from './browser/launch.js';
import {
  CONVERT_IN_PAGE,
  DESCRIBE_APP,
  INSTALL_PROBE,
  IS_APP_READY,
  pageFunction,
  type PageConvertArgument,
  type PageConvertResult,
} from './browser/page-scripts.js';
import type { ApiPrompt, ConvertOptions } from './types.js';

export { findChromium, DEFAULT_CHROMIUM_PATH } from './browser/launch.js';

export interface BrowserConverterOptions {
  /** The ComfyUI server (or the stand-in) that serves the frontend at `/`, e.g. http://127.0.0.1:8188. */
  url: string;
  /** Chromium to drive; default $CHROMIUM_PATH, else /usr/bin/chromium. */
  executablePath?: string;
  /** Sent with every request to the server (auth of a remote ComfyUI). */
  headers?: Record<string, string>;
  /** How long the frontend may take to boot, in ms (default 120 000: two busy cores are slow). */
  bootTimeout?: number;
  /** How long one conversion may take, in ms (default 60 000). */
  convertTimeout?: number;
}

/**
 * The native converter's options, with the same meaning: `random` replaces Math.random while the
 * prompt is built (dynamic prompts `{a|b}` draw from it), `now` is the time `%date:…%` sees.
 */
export type BrowserConvertOptions = ConvertOptions;

export interface BrowserInfo {
  frontendVersion: string | null;
  nodeTypes: number;
  /** Milliseconds from launch until the frontend was ready. */
  bootMs: number;
}

/** Settings and user files: what the frontend writes on its own while booting and loading. */
const USER_STATE_WRITE = /^\/(api\/)?(settings|userdata|users)(\/|$)/;

// Enough draws for any real workflow's dynamic prompts; unused ones cost nothing.
const RANDOM_DRAWS = 4096;

/**
 * Converts UI workflows to API prompts with the real ComfyUI frontend in a headless chromium:
 * the reference behaviour that the native converter is measured against. One warm browser per
 * converter; conversions run one at a time on its single page.
 */
export class BrowserConverter {
  private readonly options: BrowserConverterOptions;
  private readonly origin: string;
  private booting: Promise<{ browser: LaunchedBrowser; page: Page; info: BrowserInfo }> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: BrowserConverterOptions) {
    this.options = options;
    try {
      this.origin = new URL(options.url).origin;
    } catch (error) {
      throw new BrowserError(`"${options.url}" is not a URL; pass the ComfyUI server's address, e.g. http://127.0.0.1:8188`, error);
    }
  }

  /** Launches chromium and loads the frontend (convert() does it on first use). */
  async start(): Promise<BrowserInfo> {
    return (await this.boot()).info;
  }

  /** The frontend's graphToPrompt().output for this workflow, after loading it as "open file" would. */
  convert(workflow: unknown, options: BrowserConvertOptions = {}): Promise<ApiPrompt> {
    // One graph per page: serialise calls so loads never interleave.
    const run = this.queue.then(() => this.convertNow(workflow, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Closes the browser and removes its profile folder; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const booting = this.booting;
    if (!booting) return;
    const launched = await booting.catch(() => undefined);
    await launched?.browser.close();
  }

  private async convertNow(workflow: unknown, options: BrowserConvertOptions): Promise<ApiPrompt> {
    // The frontend "loads" almost anything (a placeholder graph at worst): refuse non-workflows here.
    if (!isUiWorkflow(workflow)) {
      throw new InvalidWorkflowError('Browser conversion takes a UI workflow (an object with a "nodes" array and "links"); this is not one.');
    }
    const { page } = await this.boot();
    const argument: PageConvertArgument = {
      workflow,
      randoms: options.random ? Array.from({ length: RANDOM_DRAWS }, options.random) : null,
      now: options.now ? options.now().getTime() : null,
    };
    let result: PageConvertResult;
    try {
      result = await withTimeout(
        page.evaluate(pageFunction<PageConvertArgument, Promise<PageConvertResult>>(CONVERT_IN_PAGE), argument),
        this.options.convertTimeout ?? 60_000,
        'the conversion',
      );
    } catch (error) {
      throw new BrowserError(`the frontend page failed while converting: ${(error as Error).message}`, error);
    }
    if (!result.ok) {
      throw new BrowserError(`the frontend could not ${result.stage === 'load' ? 'load the workflow' : 'build the prompt'}: ${firstLine(result.message)}`);
    }
    const first = result.missing[0];
    if (first) throw new UnknownNodeTypeError(first.id, first.type);
    return JSON.parse(result.output) as ApiPrompt;
  }

  private boot(): Promise<{ browser: LaunchedBrowser; page: Page; info: BrowserInfo }> {
    if (this.closed) return Promise.reject(new BrowserError('this BrowserConverter was closed; create a new one'));
    this.booting ??= this.launchAndLoad();
    return this.booting;
  }

  private async launchAndLoad(): Promise<{ browser: LaunchedBrowser; page: Page; info: BrowserInfo }> {
    const started = Date.now();
    const browser = await launchChromium({ executablePath: this.options.executablePath, headers: this.options.headers });
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      // Only the server itself is reachable: the frontend's release check and CDN fetches would
      // hang or fail slowly offline, and must never leave the machine.
      await page.route('**/*', (route) => {
        const request = route.request();
        const url = request.url();
        if (!(url.startsWith(this.origin) || url.startsWith('blob:') || url.startsWith('data:'))) return route.abort();
        // The frontend records its own bookkeeping (installed version, tutorial seen, drafts) in the
        // user's settings and files: answer those writes here so converting never changes a user's
        // ComfyUI (remote servers included).
        if (request.method() !== 'GET' && USER_STATE_WRITE.test(new URL(url).pathname)) {
          return route.fulfill({ status: 200, contentType: 'application/json', body: '{}' });
        }
        return route.continue();
      });
      const inFlight = trackRequests(page);
      const timeout = this.options.bootTimeout ?? 120_000;
      try {
        const response = await page.goto(`${this.origin}/`, { timeout, waitUntil: 'load' });
        if (response && !response.ok()) {
          throw new BrowserError(`${this.origin}/ answered ${response.status()}: the server does not serve the ComfyUI frontend there`);
        }
        await page.waitForFunction(pageFunction<undefined, boolean>(IS_APP_READY), undefined, { timeout, polling: 100 });
      } catch (error) {
        if (error instanceof BrowserError) throw error;
        const why = pageErrors.length ? ` Page errors: ${pageErrors.slice(-3).join(' | ')}` : '';
        throw new BrowserError(`the ComfyUI frontend at ${this.origin}/ did not become ready within ${Math.round(timeout / 1000)} s.${why}`, error);
      }
      // After setup() the frontend still restores or opens a first workflow; let that settle so it
      // cannot replace the graph we load next.
      await inFlight.quiet(500, timeout);
      await page.evaluate(pageFunction<undefined, void>(INSTALL_PROBE), undefined);
      const described = await page.evaluate(pageFunction<undefined, { frontendVersion: string | null; nodeTypes: number }>(DESCRIBE_APP), undefined);
      return { browser, page, info: { ...described, bootMs: Date.now() - started } };
    } catch (error) {
      await browser.close();
      throw error;
    }
  }
}

/** Counts requests in flight so boot can wait until the page stops fetching. */
function trackRequests(page: Page): { quiet(ms: number, timeout: number): Promise<void> } {
  const pending = new Set<Request>();
  let lastChange = Date.now();
  const done = (request: Request) => {
    pending.delete(request);
    lastChange = Date.now();
  };
  page.on('request', (request) => {
    pending.add(request);
    lastChange = Date.now();
  });
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  return {
    async quiet(ms, timeout) {
      const deadline = Date.now() + timeout;
      // WebSocket and long-poll requests never finish; after the deadline we go on regardless.
      while (Date.now() < deadline && (pending.size > 0 || Date.now() - lastChange < ms)) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function isUiWorkflow(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return Array.isArray(record.nodes) && (Array.isArray(record.links) || typeof record.state === 'object' || 'version' in record);
}

function firstLine(text: string): string {
  return text.split('\n').slice(0, 3).join(' / ');
}
