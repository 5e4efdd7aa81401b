// Every HTTP route, registered at /X and /api/X like ComfyUI (except /internal/* and the test-only
// /__standin/* namespace, which real ComfyUI does not have).
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Catalogue } from './object-info.js';
import { isInside, listModelFiles, type Paths } from './paths.js';
import type { PromptQueue, QueueItem } from './queue.js';
import type { Executor } from './executor.js';
import { Faults } from './faults.js';
import { validatePrompt } from './validate.js';
import { parseMultipart } from './multipart.js';
import { UserData } from './userdata.js';
import { annotated } from './nodes/image-nodes.js';
import { decodePng, encodePng, type RawImage } from './png.js';
import { encodeWebpLossless } from './webp.js';
import { pyJson } from './pyjson.js';
import { log, logEntries } from './log.js';
import { jobsRoute } from './jobs.js';
import { NODE_REPLACEMENTS } from './node-replacements.js';

export interface Req { method: string; query: URLSearchParams; headers: IncomingMessage['headers']; body: Buffer; json(): unknown }
export type Reply =
  | { status?: number; json: unknown }
  | { status: number; text: string; contentType?: string }
  | { status?: number; body: Buffer; contentType: string; headers?: Record<string, string> };

export class HttpError extends Error { constructor(readonly status: number, message: string) { super(message); } }

const FIXTURES = fileURLToPath(new URL('../fixtures/comfyui-0.33.0/', import.meta.url));
const MIME: Record<string, string> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif', '.json': 'application/json',
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.txt': 'text/plain',
  '.mp4': 'video/mp4', '.webm': 'video/webm', '.wav': 'audio/x-wav', '.mp3': 'audio/mpeg', '.flac': 'audio/flac', '.woff2': 'font/woff2', '.ico': 'image/vnd.microsoft.icon',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function fixture(name: string, fallback: unknown): unknown {
  try { return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')); } catch { return fallback; }
}

/** The frontend, templates and other packages ComfyUI reports, as recorded (the stand-in has none of its own). */
const RECORDED_PACKAGE_VERSIONS = (fixture('system_stats.json', { system: {} }) as { system: { comfy_package_versions?: unknown[] } }).system.comfy_package_versions ?? [];

export interface RouteDeps {
  catalogue: Catalogue; paths: Paths; queue: PromptQueue; executor: Executor; faults: Faults;
  argv: string[]; maxUploadBytes: number; frontEndRoot: string | undefined; wsNotify: (event: string, data: unknown) => void;
}

export class Routes {
  private number = 0;
  private readonly user: UserData;
  constructor(private readonly d: RouteDeps) { this.user = new UserData(d.paths.user); }

  features(): Record<string, unknown> {
    return fixture('features.json', { supports_preview_metadata: true, supports_model_type_tags: true, max_upload_size: this.d.maxUploadBytes, extension: { manager: { supports_v4: true } }, node_replacements: true, assets: false }) as Record<string, unknown>;
  }

  queueInfo() { return { exec_info: { queue_remaining: this.d.queue.remaining() } }; }

  /** Dispatches one request. Throws HttpError for aiohttp-style plain-text errors. */
  handle(req: Req, rawPath: string): Reply | undefined {
    if (rawPath.startsWith('/__standin/')) return this.standin(req, rawPath);
    if (rawPath.startsWith('/internal/')) return this.internal(req, rawPath.slice('/internal'.length));
    if ((req.method === 'GET' || req.method === 'HEAD') && (rawPath.startsWith('/api/jobs') || rawPath.startsWith('/api/api/jobs'))) {
      const r = jobsRoute(this.d.queue, rawPath.replace(/^\/api\/api\//, '/api/'), req.query);
      if (r) return r;
    }
    // The assets routes are always registered; without --enable-assets they all answer 503.
    if (rawPath.startsWith('/api/assets') || rawPath === '/api/tags') {
      return { status: 503, json: { error: { code: 'SERVICE_DISABLED', message: 'Assets system is disabled. Start the server with --enable-assets to use this feature.', details: {} } } };
    }
    const path = rawPath.startsWith('/api/') ? rawPath.slice(4) : rawPath;
    return this.api(req, path) ?? this.user.handle(req, path);
  }

  private api(req: Req, path: string): Reply | undefined {
    const { method, query } = req;
    const d = this.d;
    const get = method === 'GET' || method === 'HEAD';
    if (get && path === '/object_info') return { json: d.catalogue.all() };
    const oi = /^\/object_info\/(.+)$/.exec(path);
    if (get && oi) { const c = decodeURIComponent(oi[1]!); return { json: d.catalogue.has(c) ? { [c]: d.catalogue.get(c) } : {} }; }
    if (get && path === '/system_stats') return { json: this.systemStats() };
    if (get && path === '/features') return { json: this.features() };
    if (get && path === '/embeddings') return { json: listModelFiles(d.paths.models.get('embeddings')!).map((f) => f.replace(/\.[^./]+$/, '')) };
    if (get && path === '/models') return { json: [...d.paths.models.keys()] };
    const models = /^\/models\/([^/]+)$/.exec(path);
    if (get && models) { const f = d.paths.models.get(decodeURIComponent(models[1]!)); return f ? { json: listModelFiles(f) } : { status: 404, text: '' }; }
    if (get && path === '/experiment/models') return { json: [...d.paths.models].filter(([k]) => !['configs', 'custom_nodes'].includes(k)).map(([name, f]) => ({ name, folders: f.paths, ...(Array.isArray(f.extensions) ? { extensions: [...f.extensions].sort() } : {}) })) };
    const expModels = /^\/experiment\/models\/([^/]+)$/.exec(path);
    if (get && expModels) {
      const f = d.paths.models.get(decodeURIComponent(expModels[1]!));
      if (!f) return { status: 404, text: '' };
      return { json: listModelFiles(f).map((name) => ({ name, pathIndex: 0 })) };
    }
    if (get && path === '/extensions') return { json: this.extensions() };
    if (get && path === '/node_replacements') return { json: fixture('node_replacements.json', NODE_REPLACEMENTS) };
    if (get && path === '/global_subgraphs') return { json: {} };
    if (get && /^\/global_subgraphs\/[^/]+$/.test(path)) return { json: null };
    if (get && path === '/workflow_templates') return { json: {} };
    if (get && path === '/i18n') return { json: {} };
    if (get && path === '/prompt') return { json: this.queueInfo() };
    if (method === 'POST' && path === '/prompt') return this.postPrompt(req);
    if (get && path === '/queue') {
      const strip = (i: QueueItem) => i.slice(0, 5);
      return { json: { queue_running: [...d.queue.running.values()].map(strip), queue_pending: d.queue.heap.map(strip) } };
    }
    if (method === 'POST' && path === '/queue') {
      const body = req.json() as Record<string, unknown>;
      if ('clear' in body && body.clear) d.queue.wipe();
      if ('delete' in body) for (const id of body.delete as unknown[]) d.queue.deleteItem(id);
      return { status: 200, text: '' };
    }
    if (method === 'POST' && path === '/interrupt') {
      let body: Record<string, unknown> = {};
      try { body = (req.json() as Record<string, unknown> | null) ?? {}; } catch { body = {}; }
      const id = body.prompt_id;
      if (id) {
        if ([...d.queue.running.values()].some((i) => i[1] === id)) { log.info(`Interrupting prompt ${String(id)}`); d.executor.interrupted = true; }
        else log.info(`Prompt ${String(id)} is not currently running, skipping interrupt`);
      } else {
        log.info('Global interrupt (no prompt_id specified)');
        d.executor.interrupted = true;
      }
      return { status: 200, text: '' };
    }
    if (method === 'POST' && path === '/free') {
      const body = req.json() as Record<string, unknown>;
      // free_memory also resets the output cache; the worker applies it before its next prompt.
      if (body.free_memory) d.executor.freeMemoryRequested = true;
      return { status: 200, text: '' };
    }
    if (get && path === '/history') {
      const int = (v: string | null) => { if (v === null) return undefined; if (!/^\s*[-+]?\d+\s*$/.test(v)) throw new HttpError(500, `invalid literal for int() with base 10: '${v}'`); return Number(v); };
      const opts: { maxItems?: number; offset?: number } = {};
      const m = int(query.get('max_items')); if (m !== undefined) opts.maxItems = m;
      const o = int(query.get('offset')); if (o !== undefined) opts.offset = o;
      return { json: d.queue.getHistory(opts) };
    }
    const hist = /^\/history\/(.+)$/.exec(path);
    if (get && hist) return { json: d.queue.getHistory({ promptId: decodeURIComponent(hist[1]!) }) };
    if (method === 'POST' && path === '/history') {
      const body = req.json() as Record<string, unknown>;
      if ('clear' in body && body.clear) d.queue.history.clear();
      if ('delete' in body) for (const id of body.delete as unknown[]) d.queue.history.delete(String(id));
      return { status: 200, text: '' };
    }
    if (get && path === '/view') return this.view(req);
    // No safetensors metadata is ever served: the stand-in has no model files worth reading.
    if (get && /^\/view_metadata\/[^/]+$/.test(path)) return { status: 404, text: '' };
    if (method === 'POST' && path === '/upload/image') return this.upload(req, false);
    if (method === 'POST' && path === '/upload/mask') return this.upload(req, true);
    if (get && path === '/' ) return this.staticFile('/index.html', true);
    return undefined;
  }

  private systemStats() {
    const mem = process.memoryUsage();
    const os = require_os();
    return {
      system: {
        os: process.platform, ram_total: os.totalmem(), ram_free: os.freemem(), comfyui_version: '0.33.0',
        required_frontend_version: '1.48.7', installed_templates_version: '0.11.41', required_templates_version: '0.11.41',
        comfy_package_versions: RECORDED_PACKAGE_VERSIONS, python_version: `stand-in (node ${process.version})`, pytorch_version: 'stand-in',
        embedded_python: false, deploy_environment: 'local-git', argv: ['main.py', ...this.d.argv],
      },
      devices: [{ name: 'cpu', type: 'cpu', index: null, vram_total: os.totalmem(), vram_free: os.freemem(), torch_vram_total: os.totalmem(), torch_vram_free: os.freemem() - mem.rss * 0 }],
    };
  }

  private extensions(): string[] {
    const root = this.d.frontEndRoot;
    if (!root) return [];
    const out: string[] = [];
    const walk = (dir: string) => {
      let names: string[] = [];
      try { names = readdirSync(dir); } catch { return; }
      for (const n of names) {
        const p = join(dir, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (n.endsWith('.js')) out.push(`/${p.slice(root.length + 1)}`);
      }
    };
    walk(join(root, 'extensions'));
    return out;
  }

  private postPrompt(req: Req): Reply {
    log.info('got prompt');
    const body = req.json() as Record<string, unknown>;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(500, `argument of type '${typeof body}' is not iterable`);
    let number: number;
    if ('number' in body) number = Number(body.number);
    else {
      number = this.number;
      if ('front' in body && body.front) number = -number;
      this.number++;
    }
    if (!('prompt' in body)) {
      return { status: 400, json: { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} } };
    }
    const prompt = body.prompt;
    if (!prompt || typeof prompt !== 'object' || Array.isArray(prompt)) throw new HttpError(500, "'list' object has no attribute 'items'");
    let promptId: string;
    if (body.prompt_id === undefined || body.prompt_id === null) promptId = randomUUID();
    else if (typeof body.prompt_id === 'string' && UUID.test(body.prompt_id)) promptId = body.prompt_id;
    else {
      return { status: 400, json: { error: { type: 'invalid_prompt_id', message: 'prompt_id must be a valid UUID', details: 'prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one', extra_info: {} }, node_errors: {} } };
    }
    const partial = body.partial_execution_targets as unknown[] | undefined;
    const valid = validatePrompt(prompt as never, this.d.catalogue, this.d.paths, partial);
    const extra = ('extra_data' in body ? body.extra_data : {}) as Record<string, unknown>;
    if ('client_id' in body) extra.client_id = body.client_id;
    const usage = req.headers['comfy-usage-source'];
    if (!('comfy_usage_source' in extra) && typeof usage === 'string' && usage) extra.comfy_usage_source = usage;
    if (valid.ok) {
      delete extra.auth_token_comfy_org;
      delete extra.api_key_comfy_org;
      extra.create_time = Date.now();
      this.d.queue.put([number, promptId, prompt as Record<string, unknown>, extra, valid.outputs]);
      return { json: { prompt_id: promptId, number, node_errors: valid.nodeErrors } };
    }
    log.warning(`invalid prompt: ${pyJson(valid.error)}`);
    return { status: 400, json: { error: valid.error, node_errors: valid.nodeErrors } };
  }

  private dirByType(type: string | null): string | undefined {
    const t = type ?? 'output';
    return t === 'output' ? this.d.paths.output : t === 'input' ? this.d.paths.input : t === 'temp' ? this.d.paths.temp : undefined;
  }

  private view(req: Req): Reply {
    const q = req.query;
    const raw = q.get('filename');
    if (raw === null) return { status: 404, text: '' };
    const a = annotated(raw);
    const filename = a.name;
    if (!filename) return { status: 400, text: '' };
    if (filename.startsWith('/') || filename.includes('..')) return { status: 400, text: '' };
    let dir = a.type ? this.dirByType(a.type) : this.dirByType(q.get('type'));
    if (dir === undefined) return { status: 400, text: '' };
    const sub = q.get('subfolder');
    if (sub !== null) {
      const full = join(dir, sub);
      if (!isInside(dir, resolve(full))) return { status: 403, text: '' };
      dir = full;
    }
    const name = basename(filename);
    const file = join(dir, name);
    if (!existsSync(file) || !statSync(file).isFile()) return { status: 404, text: '' };
    const channel = q.get('channel');
    const preview = q.get('preview');
    if (preview !== null) {
      // server.py converts with Pillow: webp unless jpeg was asked for (and no alpha channel was).
      const format = preview.split(';')[0] === 'jpeg' && !(channel ?? '').includes('a') ? 'jpeg' : 'webp';
      if (format === 'jpeg') throw new HttpError(500, 'the stand-in cannot encode JPEG previews (only /view?preview=webp)');
      if (extname(name).toLowerCase() !== '.png') throw new HttpError(500, `the stand-in decodes only PNG for previews, not ${name}`);
      const img = decodePng(readFileSync(file));
      const rgb = channel === 'rgb' && img.channels === 4 ? dropAlpha(img) : img;
      return { body: encodeWebpLossless(rgb), contentType: 'image/webp', headers: { 'Content-Disposition': `filename="${name}"` } };
    }
    if ((channel === 'rgb' || channel === 'a') && extname(name).toLowerCase() === '.png') {
      const img = decodePng(readFileSync(file));
      const px = img.width * img.height;
      const out = new Uint8Array(px * (channel === 'rgb' ? 3 : 4));
      for (let i = 0; i < px; i++) {
        if (channel === 'rgb') out.set(img.data.subarray(i * img.channels, i * img.channels + 3), i * 3);
        else out[i * 4 + 3] = img.channels === 4 ? img.data[i * 4 + 3]! : 255;
      }
      return { body: encodePng({ width: img.width, height: img.height, channels: channel === 'rgb' ? 3 : 4, data: out }), contentType: 'image/png', headers: { 'Content-Disposition': `filename="${name}"` } };
    }
    let type = MIME[extname(name).toLowerCase()] ?? 'application/octet-stream';
    const safe = name.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    let disposition = `filename="${safe}"`;
    const headers: Record<string, string> = { 'X-Content-Type-Options': 'nosniff' };
    if (['text/html', 'text/javascript', 'text/css', 'image/svg+xml'].includes(type)) {
      headers.Vary = 'Sec-Fetch-Dest';
      headers['Cache-Control'] = 'no-store';
      type = 'application/octet-stream';
      disposition = `attachment; filename="${safe}"`;
    }
    headers['Content-Disposition'] = disposition;
    return { body: readFileSync(file), contentType: type, headers };
  }

  private upload(req: Req, mask: boolean): Reply {
    const parts = parseMultipart(req.body, String(req.headers['content-type'] ?? ''));
    const image = parts.get('image');
    const field = (n: string) => parts.get(n)?.data.toString('utf8');
    const type = field('type') ?? 'input';
    const dir = type === 'input' ? this.d.paths.input : type === 'temp' ? this.d.paths.temp : type === 'output' ? this.d.paths.output : undefined;
    if (dir === undefined) throw new HttpError(500, "cannot access local variable 'type_dir' where it is not associated with a value");
    if (!image) return { status: 400, text: '' };
    // aiohttp hands a part with an empty filename over as a plain string field; ComfyUI then fails
    // on `.file` with a 500.
    if (!image.filename) throw new HttpError(500, "'str' object has no attribute 'file'");
    let filename = image.filename;
    const subfolder = field('subfolder') ?? '';
    const folder = join(dir, normalize(subfolder || '.'));
    let filepath = resolve(folder, filename);
    if (!isInside(dir, filepath) || resolve(dir) === filepath) return { status: 400, text: '' };
    mkdirSync(folder, { recursive: true });
    const overwrite = field('overwrite');
    let duplicate = false;
    const dot = filename.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [filename.slice(0, dot), filename.slice(dot)] : [filename, ''];
    if (!(overwrite === 'true' || overwrite === '1')) {
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      let i = 1;
      while (existsSync(filepath)) {
        if (sha(readFileSync(filepath)) === sha(image.data)) { duplicate = true; break; }
        filename = `${stem} (${i})${ext}`;
        filepath = join(folder, filename);
        i++;
      }
    }
    if (!duplicate) {
      if (mask) this.saveMask(field('original_ref'), image.data, filepath);
      else writeFileSync(filepath, image.data);
    }
    return { json: { name: filename, subfolder, type } };
  }

  private saveMask(originalRef: string | undefined, maskData: Buffer, filepath: string): void {
    if (originalRef === undefined) throw new HttpError(500, 'the JSON object must be str, bytes or bytearray, not NoneType');
    const ref = JSON.parse(originalRef) as { filename: string; type?: string; subfolder?: string };
    const a = annotated(ref.filename);
    if (!a.name || a.name.startsWith('/') || a.name.includes('..')) return;
    let dir = a.type ? this.dirByType(a.type) : this.dirByType(ref.type ?? 'output');
    if (!dir) return;
    if (ref.subfolder) { const full = join(dir, ref.subfolder); if (!isInside(dir, resolve(full))) return; dir = full; }
    const file = join(dir, a.name);
    if (!existsSync(file)) return;
    const orig = decodePng(readFileSync(file));
    const m = decodePng(maskData);
    const px = orig.width * orig.height;
    const out = new Uint8Array(px * 4);
    for (let i = 0; i < px; i++) {
      out.set(orig.data.subarray(i * orig.channels, i * orig.channels + 3), i * 4);
      out[i * 4 + 3] = m.channels === 4 ? (m.data[i * 4 + 3] ?? 255) : 255;
    }
    writeFileSync(filepath, encodePng({ width: orig.width, height: orig.height, channels: 4, data: out }, orig.texts));
  }

  private internal(req: Req, path: string): Reply | undefined {
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (get && path === '/logs') return { json: logEntries().map((e) => `${e.t} - ${e.m}`).join('') };
    if (get && path === '/logs/raw') return { json: { entries: logEntries(), size: { cols: 80, rows: 24 } } };
    if (req.method === 'PATCH' && path === '/logs/subscribe') return { status: 200, text: '' };
    if (get && path === '/folder_paths') return { json: Object.fromEntries([...this.d.paths.models].map(([k, f]) => [k, f.paths])) };
    const files = /^\/files\/([^/]+)$/.exec(path);
    if (get && files) {
      const dir = ['output', 'input', 'temp'].includes(files[1]!) ? this.dirByType(files[1]!) : undefined;
      if (!dir) return { status: 400, json: { error: 'Invalid directory type' } };
      let names: string[] = [];
      try { names = readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile()); } catch { names = []; }
      names.sort((x, y) => statSync(join(dir, y)).mtimeMs - statSync(join(dir, x)).mtimeMs);
      return { json: names };
    }
    return undefined;
  }

  private standin(req: Req, path: string): Reply | undefined {
    if (path === '/__standin/faults') {
      if (req.method === 'POST') { this.d.faults.current = Faults.parse(req.json()); return { json: this.d.faults.current }; }
      if (req.method === 'GET') return { json: this.d.faults.current };
    }
    return undefined;
  }

  /** Static frontend files under --front-end-root (aiohttp's web.static('/')). */
  staticFile(path: string, isIndex = false): Reply | undefined {
    const root = this.d.frontEndRoot;
    if (!root) return undefined;
    const file = resolve(root, `.${decodeURIComponent(path)}`);
    if (!isInside(root, file) || !existsSync(file) || !statSync(file).isFile()) return undefined;
    const headers: Record<string, string> = {};
    const ext = extname(file).toLowerCase();
    if (isIndex) Object.assign(headers, { 'Cache-Control': 'no-store, must-revalidate', Pragma: 'no-cache', Expires: '0' });
    else if (ext === '.js' || ext === '.css' || /index.*\.json$/.test(file)) headers['Cache-Control'] = 'no-store';
    return { body: readFileSync(file), contentType: MIME[ext] ?? 'application/octet-stream', headers };
  }
}

function dropAlpha(img: RawImage): RawImage {
  const px = img.width * img.height;
  const data = new Uint8Array(px * 3);
  for (let i = 0; i < px; i++) data.set(img.data.subarray(i * 4, i * 4 + 3), i * 3);
  return { width: img.width, height: img.height, channels: 3, data };
}

import * as osModule from 'node:os';
function require_os() { return osModule; }

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new HttpError(413, `Maximum request body size ${limit} exceeded, actual body size ${size}`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendReply(res: ServerResponse, reply: Reply, head: boolean): void {
  const status = reply.status ?? 200;
  if ('json' in reply) {
    const body = pyJson(reply.json);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(head ? undefined : body);
  } else if ('text' in reply) {
    const headers: Record<string, string | number> = { 'Content-Length': Buffer.byteLength(reply.text) };
    // aiohttp's bare web.Response(status=…) sends no Content-Type at all (the recordings show none).
    if (reply.text || reply.contentType) headers['Content-Type'] = reply.contentType ?? 'text/plain; charset=utf-8';
    res.writeHead(status, headers);
    res.end(head ? undefined : reply.text);
  } else {
    res.writeHead(status, { ...reply.headers, 'Content-Type': reply.contentType, 'Content-Length': reply.body.length });
    res.end(head ? undefined : reply.body);
  }
}
