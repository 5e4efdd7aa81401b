import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { AssetStore } from '../../src/assets/index.js';
import { Journal, readJournal } from '../../src/assets/journal.js';
import { DiskRouteClient, listTree, tempComfyTree } from './fixtures.js';

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid as number;
}

/** Makes a store's journal look like it belongs to a process that died (as after SIGKILL). */
function orphanJournal(store: AssetStore): string {
  const file = store.journalFile as string;
  const orphan = join(dirname(file), `${deadPid()}-${basename(file).split('-')[1]}`);
  renameSync(file, orphan);
  return orphan;
}

function setup(t: { after: (fn: () => void) => void }) {
  const tree = tempComfyTree();
  t.after(tree.cleanup);
  const warnings: string[] = [];
  const make = () => new AssetStore({ client: new DiskRouteClient(tree.paths), paths: tree.paths, onWarning: (m) => warnings.push(m) });
  return { tree, make, warnings, models: join(tree.paths.baseDirectory, 'models') };
}

describe('ephemeral journal', () => {
  test('every ephemeral file is journalled with intent and completion; non-ephemeral ones are kept', async (t) => {
    const { tree, make, models } = setup(t);
    const store = make();
    const results = await store.upload([
      { source: Buffer.from('img'), to: 'input', name: 'e.png', ephemeral: true },
      { source: Buffer.from('keep'), to: 'input', name: 'k.png' },
      { source: Readable.from([Buffer.from('lo'), Buffer.from('ra')]), to: 'loras', name: 'e.safetensors', ephemeral: true },
      { source: Buffer.from('keep'), to: 'checkpoints', name: 'k.safetensors' },
    ]);
    assert.deepEqual(results.map((r) => r.ephemeral), [true, false, true, false]);
    const journal = await readJournal(store.journalFile as string);
    const ephemeral = journal.intents.filter((i) => i.kind === 'ephemeral').map((i) => i.path);
    assert.deepEqual(ephemeral, [join(tree.paths.inputDirectory, 'e.png'), join(models, 'loras', 'e.safetensors')]);
    for (const i of journal.intents) assert.ok(journal.done.has(i.id), `intent ${i.path} completed`);
    assert.equal(readFileSync(join(models, 'loras', 'e.safetensors'), 'utf8'), 'lora');

    const report = await store.removeEphemeral();
    assert.deepEqual(report.removed.sort(), ephemeral.sort());
    assert.equal(existsSync(join(tree.paths.inputDirectory, 'e.png')), false);
    assert.equal(existsSync(join(models, 'loras', 'e.safetensors')), false);
    assert.equal(existsSync(join(tree.paths.inputDirectory, 'k.png')), true);
    assert.equal(existsSync(join(models, 'checkpoints', 'k.safetensors')), true);
    assert.equal(existsSync(store.journalFile as string), false, 'journal cleared');
  });

  test('a replaced file is backed up first and restored on removal (route and model)', async (t) => {
    const { tree, make, models } = setup(t);
    mkdirSync(join(models, 'vae'), { recursive: true });
    writeFileSync(join(models, 'vae', 'v.safetensors'), 'ORIGINAL-VAE');
    writeFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'ORIGINAL-CAT');
    const store = make();
    const [img, vae] = await store.upload([
      { source: Buffer.from('new cat'), to: 'input', name: 'cat.png', overwrite: true, ephemeral: true },
      { source: Buffer.from('new vae'), to: 'vae', name: 'v.safetensors', overwrite: true, ephemeral: true },
    ]);
    assert.equal(img?.replaced, true);
    assert.equal(vae?.replaced, true);
    assert.equal(readFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'utf8'), 'new cat');
    assert.equal(readFileSync(join(models, 'vae', 'v.safetensors'), 'utf8'), 'new vae');
    const report = await store.removeEphemeral();
    assert.equal(report.restored.length, 2);
    assert.equal(readFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'utf8'), 'ORIGINAL-CAT');
    assert.equal(readFileSync(join(models, 'vae', 'v.safetensors'), 'utf8'), 'ORIGINAL-VAE');
    assert.deepEqual(listTree(tree.paths.inputDirectory), ['cat.png'], 'no backup left behind');
    assert.deepEqual(listTree(join(models, 'vae')), ['v.safetensors']);
  });

  test('crash simulation: a dead owner\'s journal is undone by the next store\'s recover()', async (t) => {
    const { tree, make, models } = setup(t);
    writeFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'ORIGINAL');
    const crashed = make();
    await crashed.upload([
      { source: Buffer.from('tmp'), to: 'input', name: 'cat.png', overwrite: true, ephemeral: true },
      { source: Buffer.from('tmp'), to: 'temp', name: 'scratch.png', ephemeral: true },
      { source: Buffer.from('lora'), to: 'loras', name: 'l.safetensors', subfolder: 'x', ephemeral: true },
      { source: Buffer.from('keep'), to: 'loras', name: 'keep.safetensors' },
    ]);
    orphanJournal(crashed);

    const next = make();
    const report = await next.recover();
    assert.equal(report.removed.length, 2);
    assert.deepEqual(report.restored, [join(tree.paths.inputDirectory, 'cat.png')]);
    assert.equal(readFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'utf8'), 'ORIGINAL');
    assert.equal(existsSync(join(tree.paths.tempDirectory, 'scratch.png')), false);
    assert.equal(existsSync(join(models, 'loras', 'x', 'l.safetensors')), false);
    assert.equal(existsSync(join(models, 'loras', 'keep.safetensors')), true);
    assert.equal(existsSync(dirname(next.journalFile as string)), false, 'the orphan journal is gone, and with it the emptied folder');
  });

  test('a live owner\'s journal is left alone by recover()', async (t) => {
    const { tree, make } = setup(t);
    const live = make();
    await live.upload([{ source: Buffer.from('x'), to: 'input', name: 'live.png', ephemeral: true }]);
    const other = make();
    const report = await other.recover();
    assert.deepEqual(report.removed, []);
    assert.equal(existsSync(join(tree.paths.inputDirectory, 'live.png')), true);
    await live.removeEphemeral();
    assert.equal(existsSync(join(tree.paths.inputDirectory, 'live.png')), false);
  });

  test('crash between intent and write: a leftover temp file is removed, the original kept', async (t) => {
    const { tree, make, models } = setup(t);
    const dir = join(models, 'loras');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'm.safetensors'), 'ORIGINAL');
    const journalDir = join(tree.paths.baseDirectory, 'user', 'comfy-connector-journal');
    const journal = new Journal(journalDir, `${deadPid()}-0123abcd`);
    const temp = join(dir, '.m.safetensors.aa.comfy-connector-partial');
    writeFileSync(temp, 'half');
    const at = new Date().toISOString();
    await journal.append({ op: 'intent', id: 'p1', kind: 'partial', path: join(dir, 'm.safetensors'), temp, pid: 1, at });
    // Ephemeral overwrite that died before its backup was made: the original must stay.
    await journal.append({ op: 'intent', id: 'e1', kind: 'ephemeral', path: join(dir, 'm.safetensors'), temp, backup: join(dir, '.m.safetensors.bb.comfy-connector-backup'), pid: 1, at });
    const report = await make().recover();
    assert.deepEqual(report.removed, [temp]);
    assert.deepEqual(listTree(dir), ['m.safetensors']);
    assert.equal(readFileSync(join(dir, 'm.safetensors'), 'utf8'), 'ORIGINAL');
  });

  test('journal entries pointing outside ComfyUI\'s folders are ignored and reported, never acted on', async (t) => {
    const { tree, make, warnings } = setup(t);
    const victimDir = join(tree.root, 'victim');
    mkdirSync(victimDir);
    writeFileSync(join(victimDir, 'precious.txt'), 'keep');
    writeFileSync(join(tree.paths.inputDirectory, 'ok.png'), 'ours');
    const journal = new Journal(join(tree.paths.baseDirectory, 'user', 'comfy-connector-journal'), `${deadPid()}-feedbeef`);
    const at = new Date().toISOString();
    const evil = [
      join(victimDir, 'precious.txt'),
      `${tree.paths.inputDirectory}/../../victim/precious.txt`,
      'relative/precious.txt',
      tree.paths.inputDirectory, // a root itself
    ];
    for (const [i, path] of evil.entries()) await journal.append({ op: 'intent', id: `x${i}`, kind: 'ephemeral', path, pid: 1, at });
    // A backup that lives elsewhere would let "restore" move a foreign file in: refused too.
    await journal.append({ op: 'intent', id: 'b', kind: 'ephemeral', path: join(tree.paths.inputDirectory, 'ok.png'), backup: join(victimDir, 'precious.txt'), pid: 1, at });
    writeFileSync(journal.file, `${readFileSync(journal.file, 'utf8')}not json\n`);
    await journal.append({ op: 'intent', id: 'good', kind: 'ephemeral', path: join(tree.paths.inputDirectory, 'ok.png'), pid: 1, at });

    const report = await make().recover();
    assert.equal(report.ignored.length, 6, JSON.stringify(report.ignored, null, 1));
    assert.deepEqual(report.removed, [join(tree.paths.inputDirectory, 'ok.png')]);
    assert.equal(readFileSync(join(victimDir, 'precious.txt'), 'utf8'), 'keep');
    assert.equal(warnings.length, 6);
  });

  test('a journal entry reaching out through a symlinked folder is ignored', async (t) => {
    const { tree, make } = setup(t);
    const victimDir = join(tree.root, 'victim');
    mkdirSync(victimDir);
    writeFileSync(join(victimDir, 'precious.txt'), 'keep');
    const { symlinkSync } = await import('node:fs');
    symlinkSync(victimDir, join(tree.paths.inputDirectory, 'link'));
    const journal = new Journal(join(tree.paths.baseDirectory, 'user', 'comfy-connector-journal'), `${deadPid()}-feedbee0`);
    await journal.append({ op: 'intent', id: 'x', kind: 'ephemeral', path: join(tree.paths.inputDirectory, 'link', 'precious.txt'), pid: 1, at: '' });
    const report = await make().recover();
    assert.equal(report.ignored.length, 1);
    assert.equal(readFileSync(join(victimDir, 'precious.txt'), 'utf8'), 'keep');
  });
});

describe('the journal folder leaves no trace', () => {
  test('cleanup removes the emptied journal folder; an existing user/ stays, one we created goes', async (t) => {
    const { tree, make } = setup(t);
    const user = join(tree.paths.baseDirectory, 'user');
    const store = make();
    await store.upload([{ source: Buffer.from('img'), to: 'input', name: 'e.png', ephemeral: true }]);
    const journalDir = dirname(store.journalFile as string);
    assert.equal(existsSync(journalDir), true, 'the journal folder exists while an ephemeral file does');
    await store.removeEphemeral();
    assert.equal(existsSync(journalDir), false, 'the emptied journal folder is removed');
    assert.equal(existsSync(user), true, 'user/ existed before: left alone');

    rmdirSync(user); // now as in a fresh checkout, where ComfyUI has not made user/ yet
    const second = make();
    await second.upload([{ source: Buffer.from('img2'), to: 'input', name: 'f.png', ephemeral: true }]);
    assert.equal(existsSync(journalDir), true);
    await second.removeEphemeral();
    assert.equal(existsSync(user), false, 'user/, which the journal created, is removed with it');
  });

  test('the folder stays while another owner\'s journal is in it, and goes after recover() undoes a dead one', async (t) => {
    const { make } = setup(t);
    const live = make();
    const other = make();
    await live.upload([{ source: Buffer.from('a'), to: 'input', name: 'a.png', ephemeral: true }]);
    await other.upload([{ source: Buffer.from('b'), to: 'input', name: 'b.png', ephemeral: true }]);
    const journalDir = dirname(live.journalFile as string);
    await live.removeEphemeral();
    assert.equal(existsSync(journalDir), true, 'another journal is still there');
    assert.deepEqual(readdirSync(journalDir), [basename(other.journalFile as string)]);
    orphanJournal(other);
    const report = await make().recover();
    assert.equal(report.removed.length, 1);
    assert.equal(existsSync(journalDir), false, 'recovery emptied the folder, so it is removed');
  });
});

describe('collisions follow ComfyUI', () => {
  test('same bytes reuse the name (not ours to delete); different bytes get "name (1).ext"', async (t) => {
    const { tree, make, models } = setup(t);
    writeFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'A');
    mkdirSync(join(models, 'loras'), { recursive: true });
    writeFileSync(join(models, 'loras', 'l.safetensors'), 'A');
    const store = make();
    const r = await store.upload([
      { source: Buffer.from('A'), to: 'input', name: 'cat.png', ephemeral: true },
      { source: Buffer.from('B'), to: 'input', name: 'cat.png', ephemeral: true },
      { source: Buffer.from('C'), to: 'input', name: 'cat.png' },
      { source: Buffer.from('A'), to: 'loras', name: 'l.safetensors', ephemeral: true },
      { source: Buffer.from('B'), to: 'loras', name: 'l.safetensors', ephemeral: true },
    ]);
    assert.deepEqual(r.map((x) => [x.name, x.ephemeral, x.reused ?? false]), [
      ['cat.png', false, true],
      ['cat (1).png', true, false],
      ['cat (2).png', false, false],
      ['l.safetensors', false, true],
      ['l (1).safetensors', true, false],
    ]);
    await store.removeEphemeral();
    assert.deepEqual(listTree(tree.paths.inputDirectory), ['cat (2).png', 'cat.png']);
    assert.deepEqual(listTree(join(models, 'loras')), ['l.safetensors']);
  });

  test('a plain upload that lands on one of our ephemeral files makes it permanent', async (t) => {
    const { tree, make, models } = setup(t);
    writeFileSync(join(tree.paths.inputDirectory, 'o.png'), 'ORIGINAL');
    const store = make();
    await store.upload([
      { source: Buffer.from('E'), to: 'input', name: 'e.png', ephemeral: true },
      { source: Buffer.from('E'), to: 'input', name: 'e.png' }, // same bytes: reused, now wanted
      { source: Buffer.from('EPH'), to: 'input', name: 'o.png', overwrite: true, ephemeral: true },
      { source: Buffer.from('FINAL'), to: 'input', name: 'o.png', overwrite: true },
      { source: Buffer.from('M'), to: 'loras', name: 'm.safetensors', ephemeral: true },
      { source: Buffer.from('M'), to: 'loras', name: 'm.safetensors' },
    ]);
    const report = await store.removeEphemeral();
    assert.deepEqual(report, { removed: [], restored: [], ignored: [] });
    assert.deepEqual(listTree(tree.paths.inputDirectory), ['e.png', 'o.png'], 'no backup left');
    assert.equal(readFileSync(join(tree.paths.inputDirectory, 'o.png'), 'utf8'), 'FINAL');
    assert.deepEqual(listTree(join(models, 'loras')), ['m.safetensors']);
  });

  test('a failed ephemeral route upload is settled at once: backup restored, intent cancelled', async (t) => {
    const { tree } = setup(t);
    writeFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'ORIGINAL');
    const client = new DiskRouteClient(tree.paths);
    client.uploadImage = async () => {
      writeFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'HALF'); // the server died mid-write
      throw new Error('socket hang up');
    };
    const store = new AssetStore({ client, paths: tree.paths });
    await assert.rejects(store.upload([{ source: Buffer.from('new'), to: 'input', name: 'cat.png', overwrite: true, ephemeral: true }]), /socket hang up/);
    assert.equal(readFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'utf8'), 'ORIGINAL');
    client.uploadImage = async () => {
      throw new Error('413 too large');
    };
    await assert.rejects(store.upload([{ source: Buffer.from('new'), to: 'input', name: 'dog.png', ephemeral: true }]), /413/);
    // Someone else's dog.png appears later: removal must not take it.
    writeFileSync(join(tree.paths.inputDirectory, 'dog.png'), 'NOT OURS');
    const report = await store.removeEphemeral();
    assert.deepEqual(report, { removed: [], restored: [], ignored: [] });
    assert.deepEqual(listTree(tree.paths.inputDirectory), ['cat.png', 'dog.png']);
  });

  test('when the server picks another name than predicted, the journal follows the server', async (t) => {
    const { tree } = setup(t);
    const client = new DiskRouteClient(tree.paths);
    const store = new AssetStore({ client, paths: tree.paths });
    // Another writer takes "cat.png" between our look and the server's write.
    client.beforeWrite = (dir) => writeFileSync(join(dir, 'cat.png'), 'SOMEONE ELSE');
    const [r] = await store.upload([{ source: Buffer.from('mine'), to: 'input', name: 'cat.png', ephemeral: true }]);
    assert.equal(r?.name, 'cat (1).png');
    await store.removeEphemeral();
    assert.deepEqual(listTree(tree.paths.inputDirectory), ['cat.png']);
    assert.equal(readFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'utf8'), 'SOMEONE ELSE');
  });
});
