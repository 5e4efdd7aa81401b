// Process behaviour shared by the stand-in and real ComfyUI: log format and ready line, SIGINT
// shutdown, argparse's exit 2, and exit 1 when the port is taken.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { contractTargets, freePort, makeDirs, REPO_ROOT, spawnLogged, standardArgs } from '../helpers/targets.js';

const INFO = '\x1b[32m[INFO]\x1b[0m ';

for (const target of contractTargets({ fork: true })) {
  describe(`process contract: ${target.name}`, { skip: target.skip, concurrency: 1 }, () => {
    test('boot logs in ComfyUI format, ends with the ready line, and SIGINT stops cleanly removing temp', async () => {
      const t = await target.start();
      let stopped = false;
      try {
        const log = t.log();
        assert.ok(log.includes(`${INFO}ComfyUI version: 0.33.0\n`), 'version line');
        assert.ok(log.includes(`${INFO}Setting temp directory to: ${t.dirs.temp}\n`), 'temp line');
        assert.ok(log.includes(`${INFO}Starting server\n\n`), 'starting server line');
        assert.ok(log.indexOf('Starting server') < log.indexOf(`${INFO}To see the GUI go to: ${t.url}\n`), 'ready line after Starting server');
        assert.ok(existsSync(t.dirs.temp), 'temp dir created at start');
        const exited = new Promise<number | null>((r) => t.child.once('exit', (code) => r(code)));
        process.kill(-t.child.pid!, 'SIGINT');
        assert.equal(await exited, 0);
        stopped = true;
        assert.ok(t.log().includes(`${INFO}\nStopped server\n`), 'Stopped server line');
        assert.equal(existsSync(t.dirs.temp), false, 'temp removed on SIGINT');
      } finally {
        if (!stopped) await t.stop();
        else rmSync(t.dirs.root, { recursive: true, force: true });
      }
    });

    test('an unknown flag exits 2 with argparse\'s message', async () => {
      const { log, exited } = spawnLogged([...target.command(), '--cpu', '--bogus-flag', '1']);
      const { code } = await exited;
      assert.equal(code, 2);
      assert.match(log(), /^usage: main\.py /m);
      assert.match(log(), /^main\.py: error: unrecognized arguments: --bogus-flag 1$/m);
    });

    test('a --user-directory that does not exist exits 2', async () => {
      const { log, exited } = spawnLogged([...target.command(), '--cpu', '--user-directory', '/nonexistent/contract-user']);
      assert.equal((await exited).code, 2);
      assert.match(log(), /main\.py: error: argument --user-directory: The path '\/nonexistent\/contract-user' does not exist\./);
    });

    test('a port already in use exits 1 with ComfyUI\'s error line', async () => {
      const port = await freePort();
      const blocker = createServer();
      await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
      const dirs = makeDirs(`${target.name}-port`);
      try {
        const { log, exited } = spawnLogged([...target.command(), ...standardArgs(port, dirs)]);
        assert.equal((await exited).code, 1);
        assert.ok(log().includes(`\x1b[1m\x1b[31m[ERROR]\x1b[0m Port ${port} is already in use on address 127.0.0.1. Please close the other application or use a different port with --port.`), log().slice(-500));
      } finally {
        blocker.close();
        rmSync(dirs.root, { recursive: true, force: true });
      }
    });
  });
}

// Real ComfyUI imports the test node pack from the checkout: Python's byte code must not show up
// as changes (the helpers also set PYTHONDONTWRITEBYTECODE, but ComfyServer's own launches may not).
test('__pycache__ under test/comfy-nodes is ignored by git', { skip: existsSync(join(REPO_ROOT, '.git')) ? false : 'not a git checkout' }, () => {
  const path = 'test/comfy-nodes/comfy_connector_test_nodes/__pycache__/__init__.cpython-312.pyc';
  const r = spawnSync('git', ['check-ignore', '-q', path], { cwd: REPO_ROOT });
  assert.equal(r.status, 0, `${path} is not ignored`);
});
