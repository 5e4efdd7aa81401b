import { randomUUID } from 'node:crypto';
import { access, constants, readFile } from 'node:fs/promises';
import { ComfyServer, describeLocation, locateComfyUI, type ServerOptions } from './server/index.js';
import { ComfyClient, type RunEvent, type RunResult } from './client/index.js';
import {
  applyOverrides,
  BrowserConverter,
  convertWorkflow,
  detectFrontendVersion,
  isApiPrompt,
  isUiWorkflow,
  NodeDefinitions,
  parseWorkflowInput,
  type ApiPrompt,
  type UiWorkflow,
} from './workflow/index.js';
import { AssetStore, type AssetStoreOptions, type UploadClient, type UploadedItem, type UploadItem } from './assets/index.js';
import { UrlAssets, type RunAssetOptions, type SourceSettings, type StoredRunResult, type UploadDataOptions } from './assets/url-assets.js';
import { ComfyError, ConnectorClosedError, FileNotReadableError, OverrideError, ServerCrashedError } from './errors.js';

/** How long a refused request waits for the managed process's exit to be noticed. */
const CRASH_NOTICE_MS = 1000;

export interface CreateOptions extends ServerOptions {
  /** How getPromptFromWorkflow and runWorkflow convert UI workflows. Default: 'native'. */
  conversion?: ConversionMode;
  /** Chromium for the browser conversion mode. Default: /usr/bin/chromium. */
  browserPath?: string;
  /** Where the ephemeral-upload journal lives. Default: inside the ComfyUI user folder. */
  journalPath?: string;
  /**
   * Where the one line saying which ComfyUI is used, and why, goes ("using ComfyUI at X (from
   * comfy-cli's default workspace)"). Default 'stderr'.
   */
  notices?: 'stderr' | 'silent' | ((line: string) => void);
  /** Sources by URL (fetch policy, credentials, limits), the model cache, models to fetch before ready. */
  sources?: SourceSettings;
}

export interface ConnectOptions {
  /** Sent with every HTTP request and the WebSocket handshake (e.g. Authorization). */
  headers?: Record<string, string>;
  conversion?: ConversionMode;
  browserPath?: string;
  /** Sources by URL (fetch policy, credentials, limits). */
  sources?: SourceSettings;
}

export type ConversionMode = 'native' | 'browser';

export interface RunWorkflowOptions extends RunAssetOptions {
  /** Input values by "<node id or title>.<input>", e.g. { 'KSampler.seed': 42, '6.text': 'a cat' }. */
  overrides?: Record<string, unknown>;
  /** Files for image inputs (path, http(s)/s3 URL or bytes), uploaded as ephemeral for this run and removed when it ends. */
  inputs?: Record<string, string | Buffer>;
  /** Milliseconds; the prompt is cancelled on the server when it runs out. */
  timeout?: number;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /**
   * With onEvent: whether the 'queued' event reports the prompt's place in ComfyUI's queue (one GET
   * /queue before the run's other events are handled; default true). false: no 'queued' event and
   * no extra request, for callers that keep their own queue (the fleet's workers).
   */
  queuePosition?: boolean;
  /** Conversion mode for a UI workflow input; default: the connector's. */
  conversion?: ConversionMode;
}

export type WorkflowInput = ApiPrompt | UiWorkflow | string;

/**
 * The facade: one object with the five verbs. Everything it does is delegated to
 * src/server (the process), src/client (the protocol), src/workflow (formats) and src/assets (files).
 */
export class ComfyConnector {
  static #singleton: Promise<ComfyConnector> | undefined;

  readonly server: ComfyServer | undefined;
  #client: ComfyClient;
  readonly #assetOptions: Omit<AssetStoreOptions, 'client'>;
  readonly #assets: AssetStore;
  readonly #urlAssets: UrlAssets;
  readonly #conversion: ConversionMode;
  readonly #browserPath: string | undefined;
  readonly #headers: Record<string, string> | undefined;
  #definitions: NodeDefinitions | undefined;
  /** The frontend version the server serves, read once (native conversion reproduces that frontend's prompt). */
  #frontendVersion: Promise<string | undefined> | undefined;
  #browser: BrowserConverter | undefined;
  #closing: Promise<void> | undefined;

  private constructor(parts: {
    server?: ComfyServer;
    client: ComfyClient;
    assetOptions: Omit<AssetStoreOptions, 'client'>;
    conversion?: ConversionMode | undefined;
    browserPath?: string | undefined;
    headers?: Record<string, string> | undefined;
    sources?: SourceSettings | undefined;
  }) {
    this.server = parts.server;
    this.#urlAssets = new UrlAssets(parts.sources);
    this.#client = parts.client;
    this.#assetOptions = {
      ...parts.assetOptions,
      // A new model must be visible to the next conversion and validation.
      onModelsChanged: () => {
        this.#definitions = undefined;
      },
    };
    this.#assets = this.#newAssetStore();
    this.#conversion = parts.conversion ?? 'native';
    this.#browserPath = parts.browserPath;
    this.#headers = parts.headers;
  }

  /**
   * Starts a dedicated, managed ComfyUI and resolves once it really serves.
   * Process-wide singleton: concurrent and repeated calls share one boot and one instance until
   * killApi(). For several independent servers, use ComfyConnector.launch() (or ComfyServer).
   */
  static create(options: CreateOptions = {}): Promise<ComfyConnector> {
    if (!ComfyConnector.#singleton) {
      const boot = ComfyConnector.launch(options);
      ComfyConnector.#singleton = boot;
      // A failed boot must not poison later attempts.
      boot.catch(() => {
        if (ComfyConnector.#singleton === boot) ComfyConnector.#singleton = undefined;
      });
    }
    return ComfyConnector.#singleton;
  }

  /** Starts a managed ComfyUI that is not the singleton: as many as you like (e.g. one per GPU). */
  static async launch(options: CreateOptions = {}): Promise<ComfyConnector> {
    // Without a folder (option or COMFYUI_PATH), the ComfyUI the user already has (src/server/discovery.ts).
    const location = options.command ? undefined : locateComfyUI({ comfyuiPath: options.comfyuiPath, python: options.python });
    for (const file of options.extraModelPaths ?? []) await checkReadable(file, 'extra_model_paths');
    if (location) notify(options.notices, describeLocation(location));
    const server = new ComfyServer(location ? { ...options, comfyuiPath: location.path, python: location.python } : options);
    await server.start();
    const connector = new ComfyConnector({
      server,
      client: new ComfyClient({ url: server.url }),
      assetOptions: { paths: server.paths, journalPath: options.journalPath },
      conversion: options.conversion,
      browserPath: options.browserPath,
      sources: options.sources,
    });
    server.on('exit', (info, expected) => {
      if (!expected) connector.#client.failAll(new ServerCrashedError(info));
    });
    try {
      // Whatever a crashed or SIGKILLed previous instance left behind goes first.
      await connector.#assets.recover();
      // Models by URL (list or manifest) are in place before the connector is handed out.
      await connector.#urlAssets.fetchModels(connector.#assets, () => { connector.#definitions = undefined; });
    } catch (error) {
      await connector.killApi();
      throw error;
    }
    return connector;
  }

  /** The same API for a ComfyUI that something else manages: no process, no filesystem. */
  static async connect(url: string, options: ConnectOptions = {}): Promise<ComfyConnector> {
    const client = new ComfyClient({ url, ...(options.headers ? { headers: options.headers } : {}) });
    await client.systemStats(); // fail now, with a clear error, if nothing answers there
    return new ComfyConnector({
      client,
      assetOptions: {},
      conversion: options.conversion,
      browserPath: options.browserPath,
      headers: options.headers,
      sources: options.sources,
    });
  }

  get url(): string {
    return this.server?.url ?? this.#client.url;
  }

  get client(): ComfyClient {
    return this.#client;
  }

  /**
   * Queues a prompt (API format) or a workflow (UI format, converted first), follows it and resolves
   * with its history entry and output files; rejects with a typed ComfyError, never null.
   */
  async runWorkflow(input: WorkflowInput, options: RunWorkflowOptions = {}): Promise<StoredRunResult> {
    const client = await this.#ready();
    const parsed = parseWorkflowInput(await readInput(input));
    const workflow = isUiWorkflow(parsed) ? (parsed as UiWorkflow) : undefined;
    let prompt: ApiPrompt = workflow
      ? await this.getPromptFromWorkflow(workflow, { mode: options.conversion ?? this.#conversion })
      : (parsed as ApiPrompt);
    if (options.overrides) prompt = applyOverrides(prompt, options.overrides);

    // Inline inputs live in a store of their own, so the run removes exactly what it uploaded.
    const runAssets = options.inputs ? this.#newAssetStore() : undefined;
    try {
      if (options.inputs && runAssets) {
        const entries = Object.entries(options.inputs);
        // Every key must name a node input before anything is uploaded.
        for (const [key, source] of entries) {
          checkInputKey(key);
          if (options.sourceKinds?.localPaths !== false) await checkLocalSource(source, 'input');
        }
        applyOverrides(prompt, Object.fromEntries(entries.map(([key]) => [key, ''])));
        const values: Record<string, unknown> = {};
        for (const [key, source] of entries) {
          // Bytes have no name of their own; ComfyUI (PIL) reads the format from the content.
          const name = typeof source === 'string' ? {} : { name: `comfy-connector-${randomUUID()}.png` };
          // A remote ComfyUI has no route to delete an upload: its inline inputs go to temp (which
          // ComfyUI empties at start, "name [temp]" for LoadImage) instead of piling up in input/.
          const to = this.server ? 'input' : 'temp';
          const [uploaded] = await this.#urlAssets.upload(runAssets, [{ source, ...name, to, ephemeral: this.server !== undefined }], {
            kinds: options.sourceKinds,
            onProgress: options.onTransfer,
            signal: options.signal,
          });
          if (uploaded) values[key] = uploaded.name;
        }
        prompt = applyOverrides(prompt, values);
      }
      const release = this.#urlAssets.leaseFor(prompt); // cached models this prompt uses stay while it runs
      const result = await client.run(prompt, {
        // Saved PNGs carry the workflow the way the frontend sends it.
        ...(workflow ? { extraData: { extra_pnginfo: { workflow } } } : {}),
        ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        ...(options.queuePosition === false ? { queuePosition: false } : {}),
      }).finally(release);
      return await this.#urlAssets.storeRun(result, client.url, options, this.#headers);
    } catch (error) {
      throw await this.#crashInstead(error);
    } finally {
      if (runAssets) await runAssets.removeEphemeral();
    }
  }

  /** Converts a UI workflow into an API prompt: natively (default) or through the real frontend. */
  async getPromptFromWorkflow(
    workflow: UiWorkflow | string,
    /** frontendVersion: whose prompt native conversion reproduces; default: what the server serves. */
    options: { mode?: ConversionMode; frontendVersion?: string } = {},
  ): Promise<ApiPrompt> {
    const client = await this.#ready();
    const parsed = parseWorkflowInput(await readInput(workflow));
    if (isApiPrompt(parsed)) return parsed as ApiPrompt;
    const mode = options.mode ?? this.#conversion;
    if (mode === 'browser') {
      this.#browser ??= new BrowserConverter({
        url: this.url,
        ...(this.#browserPath ? { executablePath: this.#browserPath } : {}),
        ...(this.#headers ? { headers: this.#headers } : {}),
      });
      return this.#browser.convert(parsed as UiWorkflow);
    }
    this.#definitions ??= new NodeDefinitions(await client.objectInfo());
    this.#frontendVersion ??= detectFrontendVersion(this.url, this.#headers);
    const frontendVersion = options.frontendVersion ?? (await this.#frontendVersion);
    return convertWorkflow(parsed as UiWorkflow, this.#definitions, frontendVersion ? { frontendVersion } : {});
  }

  /** Puts files where ComfyUI looks for them; returns, per item, the name to use in a workflow. */
  async uploadData(items: UploadItem | UploadItem[], options: UploadDataOptions = {}): Promise<UploadedItem[]> {
    await this.#ready();
    if (options.kinds?.localPaths !== false) for (const item of Array.isArray(items) ? items : [items]) await checkLocalSource(item?.source, 'upload source');
    return this.#urlAssets.upload(this.#assets, Array.isArray(items) ? items : [items], { ...options, onModelsChanged: () => { this.#definitions = undefined; } });
  }

  /**
   * Shuts everything down: browser, socket, ephemeral uploads, the whole process tree. Resolves only
   * when every process is gone; idempotent. After it, create() boots anew.
   */
  killApi(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    if (ComfyConnector.#singleton) {
      const mine = await ComfyConnector.#singleton.then((c) => c === this, () => false);
      if (mine) ComfyConnector.#singleton = undefined;
    }
    const steps: Array<Promise<unknown>> = [];
    if (this.#browser) steps.push(this.#browser.close());
    this.#client.failAll(new ConnectorClosedError());
    this.#client.close();
    steps.push(this.#assets.removeEphemeral());
    const results = await Promise.allSettled(steps);
    // The server goes last: the ephemeral files are removed while nothing can read them anew.
    if (this.server) await this.server.stop();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #newAssetStore(): AssetStore {
    // Delegates to the current client: after a restart on crash, the server (and port) is new.
    const client: UploadClient = {
      uploadImage: (args) => this.#client.uploadImage(args),
      uploadMask: (args) => this.#client.uploadMask(args),
      models: () => this.#client.models(),
    };
    return new AssetStore({ ...this.#assetOptions, client });
  }

  /**
   * A request refused because the managed process has just died (before its exit was noticed) is
   * that crash, not a lost connection: wait briefly for the exit and report it as such.
   */
  async #crashInstead(error: unknown): Promise<unknown> {
    const server = this.server;
    if (!server || !(error instanceof ComfyError) || error.code !== 'COMFY_CONNECTION_LOST') return error;
    if (server.running) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          server.off('exit', done);
          resolve();
        };
        const timer = setTimeout(done, CRASH_NOTICE_MS);
        server.on('exit', done);
      });
    }
    return server.state === 'crashed' && server.lastExit ? new ServerCrashedError(server.lastExit) : error;
  }

  async #ready(): Promise<ComfyClient> {
    if (this.#closing) throw new ConnectorClosedError();
    const server = this.server;
    if (server && !server.running) {
      // restart: 'on-crash' brings a new process up; otherwise this throws the crash error.
      await server.ensureRunning();
      if (server.url !== this.#client.url) {
        this.#client.close();
        this.#client = new ComfyClient({ url: server.url });
        this.#definitions = undefined;
      }
    }
    return this.#client;
  }
}

function checkInputKey(key: string): void {
  if (!key.includes('.')) throw new OverrideError(key, 'an input key must be "<node id or title>.<input>"');
}

async function readInput(input: WorkflowInput): Promise<unknown> {
  if (typeof input !== 'string') return input;
  const text = input.trimStart();
  if (text.startsWith('{') || text.startsWith('[')) return text;
  try {
    return await readFile(input, 'utf8');
  } catch (error) {
    throw FileNotReadableError.from(input, 'workflow', error);
  }
}

async function checkReadable(file: string, role: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    throw FileNotReadableError.from(file, role, error);
  }
}

/** A path source must exist before anything is uploaded; URLs, bytes and streams are checked where they are read. */
async function checkLocalSource(source: unknown, role: string): Promise<void> {
  if (typeof source === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) await checkReadable(source, role);
}

function notify(mode: CreateOptions['notices'], line: string): void {
  if (mode === 'silent') return;
  if (typeof mode === 'function') mode(line);
  else process.stderr.write(`comfy-connector: ${line}\n`);
}
