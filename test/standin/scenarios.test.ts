// Replays every scenario recorded from real ComfyUI (test/fixtures/comfyui-0.33.0/scenarios) against
// one stand-in, in meta.json's order (state carries over as it did in the recording), and compares
// statuses, Content-Types, bodies and WebSocket messages with their bodies (replay.ts says what is
// normalised). A scenario the stand-in cannot reproduce fails here; none is left out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioFile } from '../../scripts/recorder/steps.js';
import { startStandin, type StartedTarget } from '../helpers/targets.js';
import { ReplayState, replayScenario } from './replay.js';

const DIR = fileURLToPath(new URL('../fixtures/comfyui-0.33.0/', import.meta.url));
const meta = JSON.parse(readFileSync(join(DIR, 'meta.json'), 'utf8')) as { scenarios: string[]; recorder: { testNodes: boolean } };
const load = (name: string) => JSON.parse(readFileSync(join(DIR, 'scenarios', `${name}.json`), 'utf8')) as ScenarioFile;

test('every recorded scenario file is replayed', () => {
  assert.ok(existsSync(join(DIR, 'meta.json')), 'the recording is part of the repository');
  const files = readdirSync(join(DIR, 'scenarios')).map((f) => f.replace(/\.json$/, '')).sort();
  assert.deepEqual([...meta.scenarios].sort(), files);
  assert.equal(meta.recorder.testNodes, true, 'recorded with the test node pack, so no scenario was left out');
});

describe('stand-in replays the recorded ComfyUI scenarios', { concurrency: 1, timeout: 600_000 }, () => {
  let t: StartedTarget;
  const state = new ReplayState();
  let failedBefore: string | undefined;
  // The recorder's flags (scripts/recorder/launch.ts comfyArgs).
  before(async () => { t = await startStandin({ extraArgs: ['--preview-method', 'auto'] }); });
  after(async () => { await t?.stop(); });

  for (const name of meta.scenarios) {
    test(name, async () => {
      // Later scenarios read what earlier ones left (history, files): after a failure they would
      // fail for that reason, so they say so instead of reporting a second, misleading difference.
      assert.equal(failedBefore, undefined, `an earlier scenario (${failedBefore}) failed; its state is missing here`);
      try {
        await replayScenario(t.url, load(name), state);
      } catch (e) {
        failedBefore = name;
        throw e;
      }
    });
  }
});
