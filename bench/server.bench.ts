// How much ComfyServer adds to ComfyUI's own start, and how long stop() takes.
// For each target (the stand-in always; real ComfyUI when COMFYUI_PATH and COMFYUI_PYTHON are set):
//   bare   — a hand-written spawn (no watchdog, no checks): spawn → ready line
//   start  — ComfyServer.start(): folder, port, spawn + watchdog beside it, ready line, GET /system_stats 200
//   stop   — ComfyServer.stop(): SIGINT to the group until it is empty, watchdog reaped, folder removed
// plus the watchdog's own cost on the start path: the synchronous spawn of /bin/sh beside ComfyUI.
// (Those rows run without database templates: they measure what ComfyServer adds to ComfyUI's own start.)
// Fast start (real ComfyUI only; docs/fast-start.md), side by side in one run, rounds interleaved:
//   cold, no template — ComfyServer.start() cold, ComfyUI migrating its fresh database (as ComfyUI alone)
//   cold   — ComfyServer.start() with startMode 'cold' and the database template (the default)
//   fork   — ComfyServer.start() forked from a shared Preloader, with the template: fork request → ready
//   preload — the Preloader's one-off cost: spawn → imports, precompile and gc.freeze() done
//   template — the database template's one-off cost: ComfyUI's init_db on a new file, cached
// The template cache is a temporary folder of the bench's, so its one-off cost is measured every run.
// Run: node --import tsx bench/server.bench.ts [--rounds N] [--verbose]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ComfyServer, matchReadyLine, pickFreePort, Preloader } from '../src/server/index.js';
import { databaseTemplate, type DatabaseTemplate } from '../src/server/database-template.js';
import { serverEnv } from '../src/server/preload.js';
import { needsCpuFlag } from '../src/server/device.js';
import { terminateGroup } from '../src/server/process-group.js';
import { spawnWatchdog } from '../src/server/watchdog.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ServerBenchRow {
  target: string;
  rounds: number;
  bareReadyMs: number;
  startMs: number;
  overheadMs: number;
  /** start() → ready line, minus bare spawn → ready line: what comes before and around the spawn. */
  toReadyLineOverheadMs: number;
  /** ready line → start() resolved: the GET /system_stats confirmation. */
  readyCheckMs: number;
  /** start() → port chosen, just before the spawn: pre-flight checks, instance folder, port. */
  prepareMs: number;
  stopMs: number;
}

export interface ForkBenchRow {
  rounds: number;
  /** Cold, without the database template: ComfyUI migrates its fresh database itself. */
  coldPlainMs: number;
  coldMs: number;
  forkMs: number;
  /** coldMs / forkMs. */
  speedup: number;
  forkStopMs: number;
  /** The preload, once: spawn → ready as seen from Node, and the imports + precompile inside Python. */
  preloadMs: number;
  preloadImportMs: number;
  imported: number;
  compiled: number;
  /** Objects the preloader moved to the collector's permanent generation. */
  frozen: number;
  /** The database template's one-off make, ms (undefined: none could be made; the reason is printed). */
  templateMs?: number;
  templateRevision?: string;
}

export interface ServerBenchResult {
  rows: ServerBenchRow[];
  fork?: ForkBenchRow;
  /** The synchronous spawn() of the sh watchdog (what start() waits for of it), median ms. */
  watchdog: { spawnMs: number };
}

interface Target {
  name: string;
  base: string[];
  cwd: string;
  rounds: number;
  python?: string;
  comfyuiPath?: string;
  /** ComfyUI makes <base>/user at start: the bench gives real servers a folder of its own instead. */
  userDirectory?: string;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const now = () => performance.now();

/** A plain detached spawn, timed from spawn() to the ready line; then killed. */
async function bareReady(target: Target): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'comfy-bench-'));
  const port = await pickFreePort('127.0.0.1');
  const argv = [...target.base, '--listen', '127.0.0.1', '--port', String(port), '--temp-directory', dir, '--database-url', `sqlite:///${join(dir, 'comfyui.db')}`];
  if (needsCpuFlag('auto')) argv.push('--cpu');
  if (target.userDirectory) argv.push('--user-directory', target.userDirectory);
  const t0 = now();
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: target.cwd, detached: true, env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    return await new Promise<number>((resolve, reject) => {
      let pending = '';
      const onData = (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        if (lines.some((line) => matchReadyLine(line))) resolve(now() - t0);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${target.name} exited with ${code} before ready`)));
    });
  } finally {
    await terminateGroup(child.pid ?? -1, exited, { interruptGraceMs: 3000, terminateGraceMs: 2000 });
    await rm(dir, { recursive: true, force: true });
  }
}

async function managed(target: Target): Promise<{ startMs: number; readyLineMs: number; prepareMs: number; stopMs: number }> {
  let readyLineAt = Number.NaN;
  let portAt = Number.NaN;
  const pickPort = async (host: string) => {
    const port = await pickFreePort(host);
    portAt = now();
    return port;
  };
  const logs = (line: string) => {
    if (Number.isNaN(readyLineAt) && matchReadyLine(line)) readyLineAt = now();
  };
  const server = new ComfyServer(
    target.comfyuiPath
      ? { comfyuiPath: target.comfyuiPath, logs, pickPort, databaseTemplates: false as const, ...(target.python ? { python: target.python } : {}), ...(target.userDirectory ? { userDirectory: target.userDirectory } : {}) }
      : { command: target.base, logs, pickPort },
  );
  const { startedAt: t0, ms: startMs } = await timedStart(server);
  const t1 = now();
  await server.stop();
  return { startMs, readyLineMs: readyLineAt - t0, prepareMs: portAt - t0, stopMs: now() - t1 };
}

/** The watchdog's spawn() (fork + exec of sh) guarding a sleeping process; both then killed. */
async function watchdogCost(rounds: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const guarded = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const t0 = now();
    const watchdog = spawnWatchdog({ pgid: guarded.pid ?? -1, graceMs: 1000 });
    times.push(now() - t0);
    const gone = new Promise((resolve) => watchdog.once('exit', resolve));
    watchdog.kill('SIGKILL');
    await gone;
    watchdog.stdin?.destroy();
    const exited = new Promise((resolve) => guarded.once('exit', resolve));
    guarded.kill('SIGKILL');
    await exited;
  }
  return median(times);
}

/** Cold and forked starts of real ComfyUI, interleaved, after one preload. */
async function forkBench(target: Target, rounds: number, log: ((line: string) => void) | undefined): Promise<ForkBenchRow> {
  const databaseTemplates = await mkdtemp(join(tmpdir(), 'comfy-bench-templates-'));
  const base = { comfyuiPath: target.comfyuiPath!, ...(target.python ? { python: target.python } : {}), databaseTemplates };
  // The template first, alone, to time its one-off cost (the preloader would make it beside its preload).
  let template: DatabaseTemplate | undefined;
  try {
    template = await databaseTemplate({ comfyuiPath: base.comfyuiPath, python: target.python ?? 'python3', env: serverEnv(undefined), cacheDirectory: databaseTemplates });
  } catch (error) {
    (log ?? console.log)(`  database template unavailable: ${(error as Error).message}`);
  }
  const preloader = new Preloader(base);
  try {
    const info = await preloader.start();
    log?.(`  preload: ${info.readyMs.toFixed(0)} ms (${info.imported.length} modules imported, ${info.failed.length} absent, ${info.compiled} files compiled, ${info.frozen} objects frozen, ${info.threads} OS threads)`);
    if (template) log?.(`  database template ${template.revision}: made in ${template.madeMs?.toFixed(0)} ms`);
    const coldPlain: number[] = [];
    const cold: number[] = [];
    const forked: number[] = [];
    const stops: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const mode of ['cold, no template', 'cold', 'fork'] as const) {
        const server = new ComfyServer({
          ...base,
          ...(target.userDirectory ? { userDirectory: target.userDirectory } : {}),
          ...(mode === 'fork' ? { preloader } : { startMode: 'cold' as const }),
          ...(mode === 'cold, no template' ? { databaseTemplates: false as const } : {}),
        });
        const { ms } = await timedStart(server);
        if (mode === 'fork' && server.startedBy !== 'fork') throw new Error(`the forked start fell back to cold: ${server.logTail().filter((l) => l.startsWith('[comfy-connector]')).join(' ')}`);
        const unused = server.logTail().filter((l) => l.startsWith('[comfy-connector] database template'));
        if (unused.length) throw new Error(`the ${mode} start ran without its database template: ${unused.join(' ')}`);
        (mode === 'cold' ? cold : mode === 'fork' ? forked : coldPlain).push(ms);
        const t1 = now();
        await server.stop();
        if (mode === 'fork') stops.push(now() - t1);
        log?.(`  round ${i + 1}: ${mode} start() ${ms.toFixed(0)} ms, stop() ${(now() - t1).toFixed(0)} ms`);
      }
    }
    return {
      rounds,
      coldPlainMs: median(coldPlain),
      coldMs: median(cold),
      forkMs: median(forked),
      speedup: median(cold) / median(forked),
      forkStopMs: median(stops),
      preloadMs: info.readyMs,
      preloadImportMs: info.importMs,
      imported: info.imported.length,
      compiled: info.compiled,
      frozen: info.frozen,
      ...(template ? { templateMs: template.madeMs ?? 0, templateRevision: template.revision } : {}),
    };
  } finally {
    await preloader.close();
    await rm(databaseTemplates, { recursive: true, force: true });
  }
}

export async function benchServer(options: { rounds?: number; realRounds?: number; forkRounds?: number; verbose?: boolean; log?: (line: string) => void } = {}): Promise<ServerBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const targets: Target[] = [
    { name: 'stand-in', base: [process.execPath, '--import', 'tsx', join(ROOT, 'test', 'standin', 'main.ts')], cwd: ROOT, rounds: options.rounds ?? 3 },
  ];
  const { COMFYUI_PATH, COMFYUI_PYTHON } = process.env;
  if (COMFYUI_PATH && COMFYUI_PYTHON) {
    const userDirectory = mkdtempSync(join(tmpdir(), 'comfy-bench-user-'));
    process.once('exit', () => rmSync(userDirectory, { recursive: true, force: true }));
    targets.push({ name: 'real ComfyUI', base: [COMFYUI_PYTHON, join(COMFYUI_PATH, 'main.py')], cwd: COMFYUI_PATH, rounds: options.realRounds ?? 2, python: COMFYUI_PYTHON, comfyuiPath: COMFYUI_PATH, userDirectory });
  } else {
    log('COMFYUI_PATH/COMFYUI_PYTHON not set: real ComfyUI skipped');
  }

  const rows: ServerBenchRow[] = [];
  for (const target of targets) {
    const bare: number[] = [];
    const start: number[] = [];
    const stop: number[] = [];
    const readyLine: number[] = [];
    const readyCheck: number[] = [];
    const prepare: number[] = [];
    for (let i = 0; i < target.rounds; i++) {
      // Interleaved, so that a change in machine load hits both sides alike.
      bare.push(await bareReady(target));
      const m = await managed(target);
      start.push(m.startMs);
      stop.push(m.stopMs);
      readyLine.push(m.readyLineMs);
      readyCheck.push(m.startMs - m.readyLineMs);
      prepare.push(m.prepareMs);
      if (options.verbose) log(`  ${target.name} round ${i + 1}: bare ${bare.at(-1)?.toFixed(0)} ms, start() ${m.startMs.toFixed(0)} ms (prepared at ${m.prepareMs.toFixed(0)}, ready line at ${m.readyLineMs.toFixed(0)}), stop() ${m.stopMs.toFixed(0)} ms`);
    }
    const row = {
      target: target.name,
      rounds: target.rounds,
      bareReadyMs: median(bare),
      startMs: median(start),
      overheadMs: median(start) - median(bare),
      toReadyLineOverheadMs: median(readyLine) - median(bare),
      readyCheckMs: median(readyCheck),
      prepareMs: median(prepare),
      stopMs: median(stop),
    };
    rows.push(row);
  }

  const watchdog: ServerBenchResult['watchdog'] = { spawnMs: await watchdogCost(9) };
  const real = targets.find((target) => target.comfyuiPath);
  const fork = real ? await forkBench(real, options.forkRounds ?? 3, options.verbose ? log : undefined) : undefined;

  const fmt = (ms: number) => `${ms.toFixed(0)} ms`.padStart(9);
  log('target        rounds  bare→ready  start()  overhead  (to ready line + /system_stats)  pre-spawn   stop()');
  for (const r of rows) log(`${r.target.padEnd(14)}${String(r.rounds).padStart(6)} ${fmt(r.bareReadyMs)} ${fmt(r.startMs)} ${fmt(r.overheadMs)}   (${fmt(r.toReadyLineOverheadMs)} + ${fmt(r.readyCheckMs)})  ${fmt(r.prepareMs)} ${fmt(r.stopMs)}`);
  log(`watchdog (/bin/sh) spawn() on the start path: ${watchdog.spawnMs.toFixed(1)} ms median`);
  if (fork) {
    log('');
    log('fast start, real ComfyUI   rounds  cold, no template  cold start()  forked start()  speed-up  forked stop()');
    log(`${'startMode cold vs fork'.padEnd(26)}${String(fork.rounds).padStart(7)} ${fmt(fork.coldPlainMs).padStart(18)} ${fmt(fork.coldMs).padStart(13)} ${fmt(fork.forkMs).padStart(15)} ${`${fork.speedup.toFixed(1)}×`.padStart(9)} ${fmt(fork.forkStopMs).padStart(14)}`);
    log(`  speed-up = cold start() / forked start(), both with the database template (the defaults); against cold without it: ${(fork.coldPlainMs / fork.forkMs).toFixed(1)}×`);
    log(`  one-off: preload ${fmt(fork.preloadMs).trim()} (imports+precompile+freeze ${fmt(fork.preloadImportMs).trim()}; ${fork.imported} modules, ${fork.compiled} files, ${fork.frozen} objects frozen); database template ${fork.templateMs !== undefined ? `${fork.templateRevision} ${fmt(fork.templateMs).trim()}` : 'unavailable'}`);
  }
  return { rows, watchdog, ...(fork ? { fork } : {}) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--rounds');
  const rounds = i > 0 ? Number(process.argv[i + 1]) : undefined;
  const verbose = process.argv.includes('--verbose');
  await benchServer({ ...(rounds ? { rounds, realRounds: rounds, forkRounds: rounds } : {}), verbose });
}

/** Milliseconds from start() to ready; a server that fails to start is stopped before the error goes on. */
async function timedStart(server: ComfyServer): Promise<{ startedAt: number; ms: number }> {
  const t0 = now();
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { startedAt: t0, ms: now() - t0 };
}
