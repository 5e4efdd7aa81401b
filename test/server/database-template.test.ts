// Database templates (src/server/database-template.ts): a migrated database made once per checkout
// by the checkout's own init_db, copied into each new instance before ComfyUI starts, so that its
// init_db finds the head and skips the migrations. On a fake ComfyUI in Python (same contract as
// ComfyUI's app/database/db.py) and, with COMFYUI_PATH/COMFYUI_PYTHON, on real ComfyUI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { ComfyServer, Preloader, type ServerOptions } from '../../src/server/index.js';
import { databaseTemplate, databaseTemplateKey, databaseTemplatePath } from '../../src/server/database-template.js';
import { assertNothingLeft, footprint, privateTmpdir, stopAfter } from './helpers.js';

const tmp = privateTmpdir();
after(() => tmp.remove());

const FAKE = fileURLToPath(new URL('./fixtures/fake-comfy-db', import.meta.url));
const PYTHON = (() => {
  const found = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
})();
const skip = PYTHON ? false : 'no python3 on this machine: database template tests skipped';
/** Each migration the fake's init_db runs appends "pid path" here. */
const MIGRATIONS = join(tmp.root, 'migrations.log');
const ENV = { PYTHONDONTWRITEBYTECODE: '1', FAKE_DB_MIGRATIONS: MIGRATIONS };

interface DbState {
  existed: boolean;
  upgraded: [string | null, string] | null;
  revision: string | null;
  path: string;
}

const migrations = () => (existsSync(MIGRATIONS) ? readFileSync(MIGRATIONS, 'utf8').trim().split('\n').filter(Boolean) : []);
const templateLines = (s: ComfyServer) => s.logTail().filter((line) => line.startsWith('[comfy-connector] database template'));
let caches = 0;
const newCache = () => join(tmp.root, `templates-${++caches}`);

function server(options: ServerOptions): ComfyServer {
  return new ComfyServer({ comfyuiPath: FAKE, python: PYTHON!, env: ENV, ...options });
}

async function dbState(s: ComfyServer): Promise<DbState> {
  const response = await fetch(`${s.url}/system_stats`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { system: { db: DbState } }).system.db;
}

describe('database templates (Python fake ComfyUI)', { skip }, () => {
  test('made once by the checkout\'s init_db, then copied (not linked) into each new instance, whose init_db skips the migration', async (t) => {
    const cache = newCache();
    const before = migrations().length;
    // A cold start does not wait for a make: with nothing cached it migrates its own file.
    const early = server({ databaseTemplates: cache });
    stopAfter(t, early);
    await early.start();
    const own = await dbState(early);
    assert.deepEqual([own.existed, own.upgraded], [false, [null, '0002_fake_head']]);
    assert.equal(existsSync(cache), false, 'no template made by a cold start');
    await early.stop();
    const afterEarly = migrations().length;
    await databaseTemplate({ comfyuiPath: FAKE, python: PYTHON!, env: { ...process.env, ...ENV }, cacheDirectory: cache });
    const first = server({ databaseTemplates: cache });
    const second = server({ databaseTemplates: cache });
    stopAfter(t, first, second);
    await first.start();
    assert.equal(afterEarly - before, 1, 'the early start migrated its own file');
    const made = migrations().slice(afterEarly);
    assert.equal(made.length, 1, 'one migration: the template maker\'s');
    const template = await databaseTemplatePath(FAKE, PYTHON!, cache);
    assert.ok(template && existsSync(template));
    assert.ok(made[0]?.endsWith('/comfyui.db') && !made[0].includes(first.paths.instanceDirectory), 'made outside any instance');
    const one = await dbState(first);
    assert.deepEqual({ existed: one.existed, upgraded: one.upgraded, revision: one.revision }, { existed: true, upgraded: null, revision: '0002_fake_head' });
    assert.equal(one.path, join(first.paths.instanceDirectory, 'comfyui.db'));
    assert.deepEqual(templateLines(first), []);

    await second.start();
    assert.equal(migrations().length - afterEarly, 1, 'the second start neither made a template nor migrated');
    const two = await dbState(second);
    assert.equal(two.existed, true);
    assert.equal(two.upgraded, null);
    // Each instance owns a copy.
    const inodes = new Set([template, one.path, two.path].map((file) => statSync(file).ino));
    assert.equal(inodes.size, 3);
    // The cache holds the template and its revision, nothing else (no lock file, no work folder).
    assert.deepEqual(readdirSync(cache).length, 1);
    assert.deepEqual(readdirSync(join(template, '..')).sort(), ['comfyui.db', 'revision']);
    assert.equal(readFileSync(join(template, '..', 'revision'), 'utf8').trim(), '0002_fake_head');
    const prints = [footprint(first), footprint(second)];
    await first.stop();
    await second.stop();
    for (const print of prints) await assertNothingLeft(print);
  });

  test('concurrent starts share one make; a second call in this process reads the cache', async () => {
    const cache = newCache();
    const before = migrations().length;
    const request = { comfyuiPath: FAKE, python: PYTHON!, env: { ...process.env, ...ENV }, cacheDirectory: cache };
    const [a, b] = await Promise.all([databaseTemplate(request), databaseTemplate(request)]);
    assert.equal(migrations().length - before, 1);
    assert.equal(a?.path, b?.path);
    assert.equal(a?.revision, '0002_fake_head');
    const again = await databaseTemplate(request);
    assert.equal(again?.path, a?.path);
    assert.equal(again?.madeMs, undefined, 'read from the cache');
  });

  test('a changed migration is a new key and a new template at the new head', async (t) => {
    const checkout = join(tmp.root, 'checkout-copy');
    cpSync(FAKE, checkout, { recursive: true });
    const cache = newCache();
    const oldKey = await databaseTemplateKey(checkout, PYTHON!);
    writeFileSync(join(checkout, 'alembic_db', 'head'), '0003_fake_next\n');
    writeFileSync(join(checkout, 'alembic_db', 'versions', '0003_fake_next.py'), '# next\n');
    const newKey = await databaseTemplateKey(checkout, PYTHON!);
    assert.notEqual(oldKey, newKey);
    await databaseTemplate({ comfyuiPath: checkout, python: PYTHON!, env: { ...process.env, ...ENV }, cacheDirectory: cache });
    const s = new ComfyServer({ comfyuiPath: checkout, python: PYTHON!, env: ENV, databaseTemplates: cache });
    stopAfter(t, s);
    await s.start();
    const state = await dbState(s);
    assert.equal(state.existed, true);
    assert.equal(state.upgraded, null);
    assert.equal(state.revision, '0003_fake_next');
    assert.ok(existsSync(join(cache, newKey!, 'comfyui.db')));
  });

  test('no template where there is nothing to template or it is turned off: ComfyUI migrates its own file', async (t) => {
    const cache = newCache();
    const off = server({ databaseTemplates: false });
    const ownUrl = join(tmp.root, 'own.db');
    const own = server({ databaseTemplates: cache, extraArgs: ['--database-url', `sqlite:///${ownUrl}`] });
    stopAfter(t, off, own);
    await off.start();
    await own.start();
    const a = await dbState(off);
    assert.deepEqual([a.existed, a.upgraded], [false, [null, '0002_fake_head']]);
    const b = await dbState(own);
    assert.equal(b.path, ownUrl);
    assert.deepEqual([b.existed, b.upgraded], [false, [null, '0002_fake_head']]);
    assert.equal(existsSync(cache), false, 'a --database-url of the user\'s: no template made');
    assert.deepEqual([...templateLines(off), ...templateLines(own)], []);
    // A checkout without alembic migrations (an older ComfyUI): no key, nothing made.
    assert.equal(await databaseTemplateKey(tmp.root, PYTHON!), undefined);
  });

  test('a template that cannot be made: one log line, and the start goes on migrating its own file', async (t) => {
    const blocker = join(tmp.root, 'not-a-folder');
    writeFileSync(blocker, 'a file where the cache folder would go');
    const s = server({ databaseTemplates: join(blocker, 'cache'), startMode: 'fork' });
    stopAfter(t, s);
    await s.start();
    const lines = templateLines(s);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^\[comfy-connector\] database template unavailable: .+; ComfyUI migrates the new database itself$/);
    const state = await dbState(s);
    assert.deepEqual([state.existed, state.upgraded], [false, [null, '0002_fake_head']]);
  });

  test('stop() while the template is being made abandons the start at once and leaves nothing', async (t) => {
    // A make far longer than a stop may take, so "at once" is told apart from "after the make" on a loaded machine.
    const s = new ComfyServer({ comfyuiPath: FAKE, python: PYTHON!, env: { ...ENV, FAKE_DB_SLOW: '8' }, databaseTemplates: newCache(), startMode: 'fork' });
    stopAfter(t, s);
    const starting = s.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const instance = s.paths.instanceDirectory;
    const t0 = Date.now();
    await s.stop();
    await assert.rejects(starting, { code: 'COMFY_CLOSED' });
    assert.ok(Date.now() - t0 < 6000, `stop() took ${Date.now() - t0} ms, not at once (the make alone takes 8 s)`); // its private preloader is closed too
    assert.equal(s.pid, undefined, 'ComfyUI was never started');
    assert.equal(existsSync(instance), false);
    // The make goes on (later starts use it); let it end before this file's folders go.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + 8500 - Date.now())));
  });

  test('fork mode: the preloader makes the template beside its preload; forked servers start from copies', async (t) => {
    const cache = newCache();
    const before = migrations().length;
    const preloader = new Preloader({ comfyuiPath: FAKE, python: PYTHON!, env: ENV, modules: [], databaseTemplates: cache });
    t.after(() => preloader.close());
    await preloader.start();
    const s = server({ preloader, databaseTemplates: cache });
    stopAfter(t, s);
    await s.start();
    assert.equal(s.startedBy, 'fork');
    const state = await dbState(s);
    assert.deepEqual([state.existed, state.upgraded, state.revision], [true, null, '0002_fake_head']);
    assert.equal(migrations().length - before, 1, 'made once, by the maker');
  });
});

// ---------------------------------------------------------------- real ComfyUI

const realSkip = process.env.COMFYUI_PATH && process.env.COMFYUI_PYTHON ? false : 'COMFYUI_PATH/COMFYUI_PYTHON not set: real ComfyUI database template test skipped';

/**
 * Schema and rows of a SQLite file (sqlite_master's SQL, alembic_version, every row), with the
 * interpreter ComfyUI runs on, one clause per line, sorted: two fresh migrations by ComfyUI itself
 * differ in the order of their indexes and table constraints (alembic's batch mode iterates sets,
 * so the order follows each process's hash seed), never in what they hold.
 */
function dump(python: string, file: string): string[] {
  const script = 'import sqlite3,sys\nc=sqlite3.connect("file:"+sys.argv[1]+"?mode=ro",uri=True)\nprint("\\n".join(c.iterdump()))';
  const out = spawnSync(python, ['-c', script, file], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.split('\n').map((line) => line.trim().replace(/,$/, '')).filter(Boolean).sort();
}

describe('database templates on real ComfyUI', { skip: realSkip }, () => {
  test('the template equals a freshly migrated database; ComfyUI skips its upgrade; the checkout is untouched', async (t) => {
    const comfyuiPath = process.env.COMFYUI_PATH!;
    const python = process.env.COMFYUI_PYTHON!;
    const cache = newCache();
    const userDirectory = join(tmp.root, 'real-user');
    mkdirSync(userDirectory, { recursive: true });
    const env = { PYTHONDONTWRITEBYTECODE: '1' };
    await databaseTemplate({ comfyuiPath, python, env: { ...process.env, ...env }, cacheDirectory: cache }); // what a preload does
    const withTemplate = new ComfyServer({ comfyuiPath, python, env, userDirectory, databaseTemplates: cache });
    const without = new ComfyServer({ comfyuiPath, python, env, userDirectory, databaseTemplates: false });
    stopAfter(t, withTemplate, without);
    await withTemplate.start();
    await without.start();
    const upgraded = (s: ComfyServer) => s.logTail().some((line) => /Database upgraded from None to \S+/.test(line));
    assert.equal(upgraded(without), true, 'a fresh file is migrated by ComfyUI');
    assert.equal(upgraded(withTemplate), false, 'a copy of the template is at the head already: no upgrade');
    assert.deepEqual(templateLines(withTemplate), []);
    const template = await databaseTemplatePath(comfyuiPath, python, cache);
    const fresh = dump(python, join(without.paths.instanceDirectory, 'comfyui.db'));
    assert.ok(fresh.some((line) => /^CREATE TABLE "?alembic_version"?/.test(line)));
    assert.ok(fresh.some((line) => /^INSERT INTO "alembic_version" VALUES\('\w+'\);$/.test(line)));
    assert.deepEqual(dump(python, template!), fresh, 'template == freshly migrated (sqlite_master, alembic_version, rows)');
    assert.deepEqual(dump(python, join(withTemplate.paths.instanceDirectory, 'comfyui.db')), fresh);
    assert.equal(existsSync(join(withTemplate.paths.instanceDirectory, 'comfyui.db.bkp')), false, 'no pre-upgrade backup: nothing was upgraded');
    await withTemplate.stop();
    await without.stop();
    const status = spawnSync('git', ['status', '--short', '--ignored'], { cwd: comfyuiPath, encoding: 'utf8' });
    assert.equal(status.stdout, '', 'the checkout is as it was');
  });
});
