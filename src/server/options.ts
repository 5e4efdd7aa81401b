import type { PortPicker } from './port.js';
import type { Preloader } from './preload.js';

export type LogMode = 'silent' | 'inherit' | ((line: string, stream: 'stdout' | 'stderr') => void);

/** How to start one managed ComfyUI. Every field is optional; the defaults suit a local checkout. */
export interface ServerOptions {
  /** The ComfyUI checkout (the folder with main.py). Default: env COMFYUI_PATH. */
  comfyuiPath?: string;
  /**
   * The interpreter that runs main.py. Default: env COMFYUI_PYTHON, then a venv inside the ComfyUI
   * folder (venv/ or .venv/), then `python3`.
   */
  python?: string;
  /**
   * Replaces `[python, main.py]` entirely (the ComfyUI flags are still appended). No Python check is
   * made then, it runs in this process's working directory, and COMFYUI_PATH is not read (only an
   * explicit comfyuiPath sets the folders; without one they live in the instance folder).
   * Tests start the stand-in this way: [process.execPath, '--import', 'tsx', '/abs/main.ts'].
   */
  command?: string[];
  /** More ComfyUI flags, appended last (e.g. ['--lowvram']). */
  extraArgs?: string[];
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string>;
  /** 'auto' (default) adds --cpu when no NVIDIA GPU is visible. */
  device?: 'auto' | 'cpu' | 'gpu';
  /** CUDA device index (--cuda-device); run one server per GPU this way. */
  cudaDevice?: number;
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** A fixed port; taken → PortInUseError. Default: a free port chosen for this instance. */
  port?: number;
  inputDirectory?: string;
  outputDirectory?: string;
  /** Created if missing. */
  userDirectory?: string;
  /** extra_model_paths.yaml files, each passed as --extra-model-paths-config. */
  extraModelPaths?: string[];
  /** Milliseconds until a start that is not ready is given up (and stopped). Default 10 minutes. */
  startTimeout?: number;
  /** What happens to ComfyUI's output besides the ring buffer and the 'log' event. Default 'silent'. */
  logs?: LogMode;
  /** Lines kept for logTail() and error messages. Default 200. */
  logBufferLines?: number;
  /**
   * 'on-crash': after an unexpected exit, ensureRunning() (which the connector calls before each
   * request) starts a new process, on a new port. Default 'never': ensureRunning() throws the crash.
   */
  restart?: 'never' | 'on-crash';
  /** How a port is chosen when none is fixed. For tests and special networks. */
  pickPort?: PortPicker;
  /**
   * 'fork': start ComfyUI as a child forked from a preloaded Python process that imported its heavy
   * third-party modules once (docs/fast-start.md); restarts then skip that import. Python ComfyUI
   * only: with `command`, or when the preload fails, is unsafe (CUDA initialised) or was made for
   * another interpreter/environment, the start is cold and one log line says why.
   * Default 'cold': a fresh `python main.py` per start.
   */
  startMode?: 'cold' | 'fork';
  /**
   * A Preloader shared by several servers (a worker's restarts, a fresh server per job). Implies
   * startMode 'fork'. Without one, 'fork' makes a private preloader, kept across restarts and
   * closed by stop(). The caller owns (and closes) a shared one.
   */
  preloader?: Preloader;
  /**
   * Where migrated copies of ComfyUI's database are cached (docs/fast-start.md): each new instance
   * starts from a copy of one, made once per checkout by ComfyUI's own init_db, instead of migrating
   * a fresh file at every start. false: every instance migrates its own, as ComfyUI does alone.
   * Not used with `command` or a `--database-url` in extraArgs. Default
   * $XDG_CACHE_HOME/comfy-connector/comfyui-db (else ~/.cache/comfy-connector/comfyui-db).
   */
  databaseTemplates?: string | false;
}

/** The folders one instance uses. */
export interface ServerPaths {
  comfyuiPath: string;
  baseDirectory: string;
  inputDirectory: string;
  outputDirectory: string;
  /** ComfyUI's temp folder: `<instanceDirectory>/temp`, emptied by ComfyUI at start. */
  tempDirectory: string;
  userDirectory: string;
  extraModelPaths: string[];
  /** This instance's private folder (temp folder, database); removed by stop(). */
  instanceDirectory: string;
}

export const DEFAULT_START_TIMEOUT_MS = 10 * 60 * 1000;
export const DEFAULT_LOG_BUFFER_LINES = 200;
export const DEFAULT_HOST = '127.0.0.1';
