/**
 * The built CLI against a real server process: the stand-in ComfyUI (started through
 * COMFY_CONNECTOR_COMMAND) and, with COMFYUI_PATH/COMFYUI_PYTHON set, real ComfyUI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  descendants,
  ensureBuilt,
  invalidPrompt,
  jsonLines,
  killAll,
  raisePrompt,
  REAL_COMFY,
  REAL_SKIP,
  runCliToEnd,
  savePrompt,
  slowPrompt,
  STANDIN_COMMAND,
  STANDIN_MAIN,
  startCli,
  survivors,
  TEST_NODES_YAML,
  TINY_PNG,
  realComfyBase,
} from './harness.js';

interface Target {
  name: string;
  real: boolean;
  skip: string | false;
  /** Flags that choose this server. */
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** Real ComfyUI's own folders: the tests leave nothing in the user's checkout. */
const realBase = REAL_COMFY ? realComfyBase() : { args: [] as string[], cleanup: () => {} };
after(() => realBase.cleanup());

const targets: Target[] = [
  {
    name: 'stand-in ComfyUI',
    real: false,
    skip: existsSync(STANDIN_MAIN) ? false : 'test/standin/main.ts is absent: stand-in CLI tests skipped',
    args: ['--extra-model-paths', TEST_NODES_YAML],
    env: { COMFY_CONNECTOR_COMMAND: STANDIN_COMMAND, COMFYUI_PATH: '', COMFYUI_PYTHON: '' },
  },
  {
    name: 'real ComfyUI',
    real: true,
    skip: REAL_COMFY ? false : REAL_SKIP,
    args: REAL_COMFY ? ['--comfyui', REAL_COMFY.path, '--python', REAL_COMFY.python, '--extra-model-paths', TEST_NODES_YAML, ...realBase.args] : [],
    env: { COMFY_CONNECTOR_COMMAND: '' },
  },
];

let dir = '';
before(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'cli-run-'));
  await writeFile(join(dir, 'ok.json'), JSON.stringify(savePrompt('cli-ok')));
  await writeFile(join(dir, 'invalid.json'), JSON.stringify(invalidPrompt()));
  await writeFile(join(dir, 'raise.json'), JSON.stringify(raisePrompt()));
  await writeFile(join(dir, 'slow.json'), JSON.stringify(slowPrompt(400, 100)));
  await writeFile(join(dir, 'endless.json'), JSON.stringify(slowPrompt(5000, 100)));
  await writeFile(join(dir, 'tiny.png'), TINY_PNG);
  await writeFile(
    join(dir, 'load-save.json'),
    JSON.stringify({
      '1': { class_type: 'LoadImage', inputs: { image: 'placeholder.png' } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'unset' }, _meta: { title: 'Save' } },
    }),
  );
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

for (const target of targets) {
  describe(`comfy-connector run against the ${target.name}`, { skip: target.skip }, () => {
    test('a batch reports every item and goes on: result, validation, execution, timeout → exit 5', async () => {
      const out = join(dir, `out-batch-${target.name.split(' ')[0]}`);
      const files = ['ok.json', 'invalid.json', 'raise.json', 'slow.json'];
      const run = await runCliToEnd(['run', ...files, '--json', '--timeout', '8', '--out', out, ...target.args], { cwd: dir, env: target.env });
      assert.equal(run.code, 5, `worst failure is the timeout\nstderr:\n${run.stderr}`);
      const records = jsonLines(run.stdout); // every stdout line parses
      const finals = records.filter((r) => r.type === 'result' || (r.type === 'error' && r.file));
      assert.deepEqual(finals.map((r) => [r.file, r.type === 'result' ? 'result' : r.code]), [
        ['ok.json', 'result'],
        ['invalid.json', 'COMFY_VALIDATION'],
        ['raise.json', 'COMFY_EXECUTION'],
        ['slow.json', 'COMFY_TIMEOUT'],
      ]);
      const ok = records.filter((r) => r.file === 'ok.json');
      assert.deepEqual(ok.slice(-2).map((r) => r.type), ['success', 'result'], 'a good run ends with success, then its result');
      const saved = ok.at(-1)!.saved as string[];
      assert.equal(saved.length, 1);
      assert.ok(saved[0]!.startsWith(out) && existsSync(saved[0]!), `saved into --out: ${saved[0]}`);
      assert.match(basename(saved[0]!), /^cli-ok.*\.png$/);
      assert.ok(records.some((r) => r.file === 'slow.json' && r.type === 'progress'), 'the slow run reported progress before its timeout');
      // slow.json's SlowCounter sends a JPEG preview per step (send_preview: true): one must arrive.
      const preview = records.find((r) => r.type === 'preview' && r.file === 'slow.json');
      assert.ok(preview, 'the slow run reported a preview');
      assert.equal(typeof preview.bytes, 'number', 'previews carry their size, not their bytes');
      assert.ok((preview.bytes as number) > 0);
      const [execution] = finals.filter((r) => r.code === 'COMFY_EXECUTION');
      assert.match(String(execution!.message), /cli test asked this node to fail/);
      assert.equal(execution!.exitCode, 4);
    });

    test('plain lines: --set by title and --input upload; saved paths on stdout, status on stderr', async () => {
      const out = join(dir, `out-lines-${target.name.split(' ')[0]}`);
      const run = await runCliToEnd(
        ['run', 'load-save.json', '--no-progress', '--set', 'Save.filename_prefix=cli-set', '--input', '1.image=./tiny.png', '--out', out, ...target.args],
        { cwd: dir, env: target.env },
      );
      assert.equal(run.code, 0, run.stderr);
      const paths = run.stdout.trim().split('\n');
      assert.equal(paths.length, 1, run.stdout);
      assert.ok(existsSync(paths[0]!), paths[0]);
      assert.match(basename(paths[0]!), /^cli-set/);
      assert.match(run.stderr, /load-save\.json: done in .*1 file saved/);
      assert.doesNotMatch(run.stderr, /\x1b\[/, 'NO_COLOR: no escape codes');
    });

    test('Ctrl-C during a run cancels it, stops the server and exits 130 leaving no process', async () => {
      const cli = startCli(['run', 'endless.json', '--json', '--out', join(dir, 'out-sigint'), ...target.args], { cwd: dir, env: target.env });
      let pids: number[] = [];
      try {
        await cli.waitFor(/"type":"progress"/, 'stdout');
        pids = descendants(cli.child.pid!);
        assert.ok(pids.length > 0, 'the server runs as a child of the CLI');
        cli.child.kill('SIGINT');
        const end = await cli.done;
        assert.equal(end.code, 130, end.stderr);
        const last = jsonLines(end.stdout).at(-1)!;
        assert.equal(last.type, 'error');
        assert.equal(last.code, 'COMFY_CANCELLED');
        assert.deepEqual(await survivors(pids), [], 'no process of the run survives');
      } finally {
        cli.child.kill('SIGKILL');
        killAll(pids);
      }
    });

    test('a second Ctrl-C forces: exit 130 and still no process left', async () => {
      const cli = startCli(['run', 'endless.json', '--json', '--out', join(dir, 'out-sigint2'), ...target.args], { cwd: dir, env: target.env });
      let pids: number[] = [];
      try {
        await cli.waitFor(/"type":"progress"/, 'stdout');
        pids = descendants(cli.child.pid!);
        cli.child.kill('SIGINT');
        cli.child.kill('SIGINT');
        const end = await cli.done;
        assert.equal(end.code, 130, end.stderr);
        assert.deepEqual(await survivors(pids), []);
      } finally {
        cli.child.kill('SIGKILL');
        killAll(pids);
      }
    });

    // Two more boots of real ComfyUI would add a minute; the stand-in shows the same CLI logic.
    test('SIGTERM during a run: the same clean stop, exit 143', { skip: target.real ? 'covered by the stand-in' : false }, async () => {
      const cli = startCli(['run', 'endless.json', '--no-progress', '--out', join(dir, 'out-sigterm'), ...target.args], { cwd: dir, env: target.env });
      let pids: number[] = [];
      try {
        await cli.waitFor(/\d+\/5000/, 'stderr');
        pids = descendants(cli.child.pid!);
        cli.child.kill('SIGTERM');
        const end = await cli.done;
        assert.equal(end.code, 143, end.stderr);
        assert.match(end.stderr, /endless\.json: cancelled/);
        assert.deepEqual(await survivors(pids), []);
      } finally {
        cli.child.kill('SIGKILL');
        killAll(pids);
      }
    });

    test('Ctrl-C while the server is still booting: it is stopped as soon as it is up, exit 130', { skip: target.real ? 'covered by the stand-in' : false }, async () => {
      const cli = startCli(['run', 'ok.json', '--no-progress', '--out', join(dir, 'out-boot'), ...target.args], { cwd: dir, env: target.env });
      let pids: number[] = [];
      try {
        await cli.waitFor(/starting ComfyUI/, 'stderr');
        cli.child.kill('SIGINT');
        // Whatever the boot started meanwhile must go too.
        const watch = setInterval(() => (pids = [...new Set([...pids, ...descendants(cli.child.pid!)])]), 50);
        const end = await cli.done;
        clearInterval(watch);
        assert.equal(end.code, 130, end.stderr);
        assert.doesNotMatch(end.stdout, /\.png/, 'nothing ran');
        assert.deepEqual(await survivors(pids), []);
      } finally {
        cli.child.kill('SIGKILL');
        killAll(pids);
      }
    });
  });
}

describe('start failures', () => {
  before(() => ensureBuilt());

  test('a ComfyUI folder that does not exist: exit 6 with COMFY_NOT_FOUND and the fix', async () => {
    const missing = join(tmpdir(), 'comfy-connector-no-such-comfyui');
    const run = await runCliToEnd(['run', join(dir, 'ok.json'), '--comfyui', missing], { env: { COMFY_CONNECTOR_COMMAND: '' } });
    assert.equal(run.code, 6, run.stderr);
    assert.match(run.stderr, /COMFY_NOT_FOUND/);
    assert.match(run.stderr, /--comfyui/);
  });

  test('a server command that exits at once: exit 6 with COMFY_START_FAILED, as a JSON error line', async () => {
    const run = await runCliToEnd(['run', join(dir, 'ok.json'), '--json'], {
      env: { COMFY_CONNECTOR_COMMAND: JSON.stringify([process.execPath, '-e', 'console.error("stand-in refuses to start"); process.exit(3)', '--']) },
    });
    assert.equal(run.code, 6, run.stderr);
    const [record] = jsonLines(run.stdout);
    assert.equal(record?.type, 'error');
    assert.match(String(record?.code), /^COMFY_START_/);
    assert.match(String(record?.message), /stand-in refuses to start/);
  });
});
