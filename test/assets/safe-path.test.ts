import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetStore, checkFileName, resolveInside, splitSubfolder } from '../../src/assets/index.js';
import { UnsafePathError } from '../../src/errors.js';
import { ForbiddenClient, listTree, tempComfyTree } from './fixtures.js';

const BAD_NAMES: Array<[string, string]> = [
  ['..', 'dot-dot'],
  ['.', 'dot'],
  ['', 'empty'],
  ['../evil.png', 'traversal'],
  ['/etc/passwd', 'absolute'],
  ['sub/evil.png', 'slash'],
  ['..\\evil.png', 'backslash traversal'],
  ['evil\\x.png', 'backslash'],
  ['C:evil.png', 'drive letter'],
  ['c:\\windows\\evil.png', 'windows absolute'],
  ['evil\0.png', 'NUL'],
  ['evil\n.png', 'control character'],
  ['x'.repeat(256), 'too long'],
  ['.cat.png.1234.comfy-connector-partial', 'our temp name'],
];

const BAD_SUBFOLDERS: Array<[string, string]> = [
  ['..', 'dot-dot'],
  ['../..', 'double dot-dot'],
  ['a/../../b', 'inner traversal'],
  ['a/../b', 'inner dot-dot (even when it stays inside)'],
  ['/abs', 'absolute'],
  ['/', 'root'],
  ['a\\..\\b', 'backslash'],
  ['C:/x', 'drive letter'],
  ['a//b', 'empty segment'],
  ['./a', 'dot segment'],
  ['a\0b', 'NUL'],
];

describe('path safety: names', () => {
  for (const [name, why] of BAD_NAMES) {
    test(`refuses a file name with ${why}`, () => {
      assert.throws(() => checkFileName(name), (e: unknown) => e instanceof UnsafePathError && e.code === 'COMFY_UNSAFE_PATH');
    });
  }
  test('accepts ordinary names', () => {
    for (const ok of ['cat.png', 'my model v2.safetensors', 'a..b.png', '.hidden', 'été.png']) checkFileName(ok);
  });
});

describe('path safety: subfolders', () => {
  for (const [sub, why] of BAD_SUBFOLDERS) {
    test(`refuses a subfolder with ${why}`, () => {
      assert.throws(() => splitSubfolder(sub), UnsafePathError);
    });
  }
  test('splits good subfolders', () => {
    assert.deepEqual(splitSubfolder('a/b c/d'), ['a', 'b c', 'd']);
    assert.deepEqual(splitSubfolder('a/'), ['a']);
    assert.deepEqual(splitSubfolder(''), []);
    assert.deepEqual(splitSubfolder(undefined), []);
  });
});

describe('path safety: symlinks', () => {
  test('refuses a subfolder that is a symlink leading out of the folder', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const outside = join(tree.root, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(tree.paths.inputDirectory, 'link'));
    await assert.rejects(resolveInside(tree.paths.inputDirectory, 'link', 'x.png'), UnsafePathError);
    await assert.rejects(resolveInside(tree.paths.inputDirectory, 'link/deeper', 'x.png'), UnsafePathError);
  });

  test('refuses a target file that is a symlink leading out', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const victim = join(tree.root, 'victim.txt');
    writeFileSync(victim, 'keep');
    symlinkSync(victim, join(tree.paths.inputDirectory, 'x.png'));
    await assert.rejects(resolveInside(tree.paths.inputDirectory, '', 'x.png'), UnsafePathError);
  });

  test('allows a symlink that stays inside the folder', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    mkdirSync(join(tree.paths.inputDirectory, 'real'));
    symlinkSync(join(tree.paths.inputDirectory, 'real'), join(tree.paths.inputDirectory, 'alias'));
    const { path } = await resolveInside(tree.paths.inputDirectory, 'alias', 'x.png');
    assert.equal(path, join(tree.paths.inputDirectory, 'alias', 'x.png'));
  });
});

describe('path safety: AssetStore.upload writes nothing for a bad item', () => {
  const cases: Array<{ to: string; name?: string; subfolder?: string }> = [
    { to: 'input', name: '../escape.png' },
    { to: 'input', name: 'ok.png', subfolder: '../../escape' },
    { to: 'loras', name: '../../escape.safetensors' },
    { to: 'loras', name: 'ok.safetensors', subfolder: '/tmp' },
    { to: 'checkpoints', name: 'a\\..\\b.safetensors' },
    { to: 'vae', name: 'x\0.safetensors' },
    { to: 'output', name: 'D:evil.png' },
  ];
  for (const c of cases) {
    test(`${c.to} ${JSON.stringify(c.subfolder ?? '')} ${JSON.stringify(c.name)}`, async (t) => {
      const tree = tempComfyTree();
      t.after(tree.cleanup);
      const store = new AssetStore({ client: new ForbiddenClient(), paths: tree.paths });
      const before = listTree(tree.root);
      // A good item first: the whole batch must be refused before it is written.
      await assert.rejects(
        store.upload([
          { source: Buffer.from('good'), to: 'loras', name: 'good.safetensors' },
          { source: Buffer.from('evil'), ...c },
        ]),
        UnsafePathError,
      );
      assert.deepEqual(listTree(tree.root), before);
      assert.equal(existsSync(join(tree.root, 'escape.png')), false);
    });
  }

  test('overwriting a hard-linked input file through the route is refused, the other link untouched', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const outside = join(tree.root, 'outside.png');
    writeFileSync(outside, 'keep');
    linkSync(outside, join(tree.paths.inputDirectory, 'x.png'));
    const store = new AssetStore({ client: new ForbiddenClient(), paths: tree.paths });
    await assert.rejects(store.upload([{ source: Buffer.from('evil'), to: 'input', name: 'x.png', overwrite: true }]), UnsafePathError);
    assert.equal(readFileSync(outside, 'utf8'), 'keep');
  });

  test('a symlinked subfolder pointing out is refused for a model write, outside untouched', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const outside = join(tree.root, 'outside');
    mkdirSync(outside);
    mkdirSync(join(tree.paths.baseDirectory, 'models', 'loras'), { recursive: true });
    symlinkSync(outside, join(tree.paths.baseDirectory, 'models', 'loras', 'sneaky'));
    const store = new AssetStore({ client: new ForbiddenClient(), paths: tree.paths });
    await assert.rejects(store.upload([{ source: Buffer.from('x'), to: 'loras', subfolder: 'sneaky', name: 'x.safetensors' }]), UnsafePathError);
    assert.deepEqual(listTree(outside), []);
  });
});

describe('path safety: property', () => {
  test('any name and subfolder either is refused or resolves strictly inside the root', async (t) => {
    const fc = (await import('fast-check')).default;
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const root = tree.paths.inputDirectory;
    const piece = fc.oneof(
      fc.constantFrom('..', '.', '/', '\\', 'C:', '\0', '', 'a', 'b.png', '../', '/..', '~', ' '),
      fc.string({ maxLength: 6 }),
    );
    const pathish = fc.array(piece, { maxLength: 5 }).map((xs) => xs.join(''));
    await fc.assert(
      fc.asyncProperty(pathish, pathish, async (subfolder, name) => {
        try {
          const { path } = await resolveInside(root, subfolder, name);
          return path.startsWith(`${root}/`) && !path.slice(root.length).split('/').includes('..');
        } catch (error) {
          return error instanceof UnsafePathError;
        }
      }),
      { numRuns: 500 },
    );
  });
});
