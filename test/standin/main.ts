// The stand-in ComfyUI: `node --import tsx test/standin/main.ts <ComfyUI flags>`. Same flags, log
// lines, exit codes, routes and WebSocket protocol as ComfyUI 0.33.0, with model-free nodes only.
import { createServer } from 'node:http';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { ArgError, exitWithArgError, parseArgs, str, type ParsedArgs } from './args.js';
import { configureLog, log } from './log.js';
import { buildPaths } from './paths.js';
import { Catalogue, testNodesLoaded } from './object-info.js';
import { PromptQueue } from './queue.js';
import { SocketHub } from './websocket.js';
import { Executor } from './executor.js';
import { Faults } from './faults.js';
import { HttpError, readBody, Routes, sendReply, type Req } from './http-routes.js';

const argv = process.argv.slice(2);
let args: ParsedArgs;
try {
  args = parseArgs(argv);
} catch (e) {
  if (e instanceof ArgError) exitWithArgError(e);
  throw e;
}
configureLog({ logStdout: args.log_stdout === true, verbose: args.verbose !== undefined });

const extraConfigs = ((args.extra_model_paths_config as string[][] | undefined) ?? []).flat();
const paths = buildPaths({
  baseDirectory: str(args, 'base_directory'), inputDirectory: str(args, 'input_directory'), outputDirectory: str(args, 'output_directory'),
  tempDirectory: str(args, 'temp_directory'), userDirectory: str(args, 'user_directory'), extraModelPathsConfigs: extraConfigs,
});
const ramMb = Math.round(totalmem() / 1024 / 1024);
log.info(`Total VRAM ${ramMb} MB, total RAM ${ramMb} MB`);
log.info('pytorch version: stand-in');
log.info('Set vram state to: DISABLED');
log.info(`Device: ${args.cpu ? 'cpu' : `cpu (stand-in, ${cpus().length} cores)`}`);
log.info(`Python version: stand-in (node ${process.version})`);
log.info('ComfyUI version: 0.33.0');

// The temp folder is wiped at start and on a clean exit; never share it between instances.
rmSync(paths.temp, { recursive: true, force: true });
mkdirSync(paths.temp, { recursive: true });
log.info(`Setting temp directory to: ${paths.temp}`);

const frontEndRoot = str(args, 'front_end_root');
log.info(`[Prompt Server] web root: ${frontEndRoot ?? '(stand-in: no frontend)'}`);
const disableCustom = args.disable_all_custom_nodes === true;
const catalogue = new Catalogue({ customNodeDirs: paths.customNodeDirs(), disableCustomNodes: disableCustom, inputDir: paths.input });
log.info('\nImport times for custom nodes:');
if (!disableCustom) for (const d of paths.customNodeDirs()) if (testNodesLoaded([d])) log.info(`   0.0 seconds: ${d}/comfy_connector_test_nodes`);
log.info('');

const faults = new Faults(process.env.COMFY_STANDIN_FAULTS);
const maxUploadBytes = Math.round(Number(str(args, 'max_upload_size') ?? 100) * 1024 * 1024);
let routes: Routes;
let executor: Executor;
const queue = new PromptQueue(() => hub.send('status', { status: routes.queueInfo() }));
const hub: SocketHub = new SocketHub(() => routes.features(), () => routes.queueInfo(), faults, (sid) => {
  if (executor.clientId === sid && executor.lastNodeId !== null) hub.send('executing', { node: executor.lastNodeId }, sid);
});
executor = new Executor(queue, hub, catalogue, paths, faults, { disableMetadata: args.disable_metadata === true, cacheNone: args.cache_none === true });
routes = new Routes({ catalogue, paths, queue, executor, faults, argv, maxUploadBytes, frontEndRoot, wsNotify: (e, d) => hub.send(e, d) });

if (args.quick_test_for_ci) process.exit(0);

const cors = args.enable_cors_header !== undefined ? ((args.enable_cors_header as string | null) ?? '*') : undefined;
const server = createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    if (cors) {
      res.setHeader('Access-Control-Allow-Origin', cors);
      res.setHeader('Access-Control-Allow-Methods', 'POST, GET, DELETE, PUT, OPTIONS, PATCH');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (method === 'OPTIONS') { res.writeHead(200); res.end(); return; }
    // The default origin guard: a loopback Host with a foreign Origin is refused.
    const origin = req.headers.origin;
    if (!cors && (req.headers['sec-fetch-site'] === 'cross-site' || (origin && new URL(origin).host !== req.headers.host && /^(127\.|localhost|\[::1\])/.test(req.headers.host ?? '')))) {
      res.writeHead(403); res.end(); return;
    }
    try {
      const body = await readBody(req, maxUploadBytes);
      const r: Req = { method, query: url.searchParams, headers: req.headers, body, json: () => { try { return JSON.parse(body.toString('utf8')); } catch { throw new HttpError(500, 'Expecting value: line 1 column 1 (char 0)'); } } };
      const reply = routes.handle(r, url.pathname) ?? ((method === 'GET' || method === 'HEAD') ? routes.staticFile(url.pathname) : undefined);
      if (reply) sendReply(res, reply, method === 'HEAD');
      else { res.writeHead(404, { 'Content-Type': 'application/octet-stream', 'Content-Length': 0 }); res.end(); }
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      if (status === 500) log.error(`Error handling request from 127.0.0.1\n${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(status === 500 ? '500 Internal Server Error\n\nServer got itself in trouble' : (e as Error).message);
    }
  })();
});
server.on('upgrade', (req, socket, head) => {
  const p = new URL(req.url ?? '/', 'http://x').pathname;
  if (p === '/ws' || p === '/api/ws') hub.handleUpgrade(req, socket, head);
  else socket.destroy();
});

const listen = args.listen === undefined ? '127.0.0.1' : ((args.listen as string | null) ?? '0.0.0.0');
const host = listen.split(',')[0]!;
const port = Number(str(args, 'port') ?? 8188);
// --dont-print-server hides both this line and the ready line.
if (!args.dont_print_server) log.info('Starting server\n');
server.once('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EADDRINUSE') {
    log.error(`Port ${port} is already in use on address ${host}. Please close the other application or use a different port with --port.`);
    process.exit(1);
  }
  log.error(String(err));
  process.exit(1);
});
server.listen(port, host, () => {
  if (!args.dont_print_server) {
    const shown = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    log.info(`To see the GUI go to: http://${shown}:${port}`);
  }
  void executor.loop();
});

process.on('SIGINT', () => {
  log.info('\nStopped server');
  hub.closeAll();
  server.closeAllConnections();
  server.close();
  if (existsSync(paths.temp)) rmSync(paths.temp, { recursive: true, force: true });
  process.exit(0);
});
// SIGTERM keeps Node's default: the process dies at once, nothing cleaned up (like ComfyUI).
