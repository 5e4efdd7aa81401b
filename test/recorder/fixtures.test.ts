import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioFile, Step } from '../../scripts/recorder/steps.js';

const fixturesRoot = new URL('../fixtures/', import.meta.url).pathname;
const versions = existsSync(fixturesRoot)
  ? readdirSync(fixturesRoot).filter((d) => d.startsWith('comfyui-') && existsSync(join(fixturesRoot, d, 'meta.json')))
  : [];

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

function record(value: unknown): Record<string, unknown> {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), 'expected an object');
  return value as Record<string, unknown>;
}

const ENDINGS = new Set(['execution_success', 'execution_error', 'execution_interrupted']);

/**
 * Prompt ids the scenario queued with its own client_id (only those get executing {node: null}),
 * and those it removed from the queue before they ran.
 */
function queuedAndRemoved(steps: Step[], clientId: string): { queued: string[]; removed: Set<string> } {
  const queued: string[] = [];
  const removed = new Set<string>();
  for (const step of steps) {
    if (step.kind !== 'http') continue;
    if (step.method === 'POST' && step.path === '/prompt' && step.status === 200 && record(step.requestBody)['client_id'] === clientId) {
      queued.push(String(record(step.body)['prompt_id']));
    }
    if (step.method === 'POST' && step.path === '/queue') {
      const body = record(step.requestBody);
      if (Array.isArray(body['delete'])) for (const id of body['delete']) removed.add(String(id));
      // clear removes every pending prompt; the one running keeps going and must still end.
      if (body['clear'] === true) for (const id of queued.slice(1)) removed.add(id);
    }
  }
  return { queued, removed };
}

describe('recorded fixtures', { skip: versions.length === 0 ? 'no test/fixtures/comfyui-*/ yet: run npm run record' : false }, () => {
  for (const version of versions) {
    const dir = join(fixturesRoot, version);
    const meta = record(readJson(join(dir, 'meta.json')));
    const files = readdirSync(join(dir, 'scenarios')).filter((f) => f.endsWith('.json'));

    test(`${version}: meta.json names exactly the scenario files`, () => {
      assert.equal(`comfyui-${String(meta['comfyuiVersion'])}`, version);
      assert.ok(Array.isArray(meta['scenarios']));
      assert.deepEqual([...(meta['scenarios'] as string[])].sort(), files.map((f) => f.replace(/\.json$/, '')).sort());
    });

    test(`${version}: static dumps are present`, () => {
      const objectInfo = record(readJson(join(dir, 'object_info.json')));
      for (const cls of ['EmptyImage', 'SaveImage', 'PreviewImage', 'VAELoader']) assert.ok(cls in objectInfo, cls);
      const stats = record(readJson(join(dir, 'system_stats.json')));
      assert.equal(record(stats['system'])['comfyui_version'], meta['comfyuiVersion']);
      assert.equal(record(readJson(join(dir, 'features.json')))['supports_preview_metadata'], true);
      assert.ok(Array.isArray(readJson(join(dir, 'embeddings.json'))));
      const models = readJson(join(dir, 'models.json'));
      assert.ok(Array.isArray(models));
      for (const key of models as string[]) assert.ok(existsSync(join(dir, 'models', `${key}.json`)), `models/${key}.json`);
    });

    for (const file of files) {
      test(`${version}: ${file} is well formed and every queued prompt reaches its end`, () => {
        const scenario = readJson(join(dir, 'scenarios', file)) as ScenarioFile;
        assert.equal(`${scenario.name}.json`, file);
        assert.equal(typeof scenario.description, 'string');
        assert.ok(scenario.steps.length > 0);

        const first = scenario.steps[0];
        assert.ok(first?.kind === 'ws' && first.message.type === 'status', 'first step is the greeting status');
        assert.equal(record(first.message.data)['sid'], scenario.clientId);
        const flagsReply = scenario.steps.some((s) => s.kind === 'ws' && s.message.type === 'feature_flags');
        assert.equal(flagsReply, scenario.featureFlags);

        for (const step of scenario.steps) {
          if (step.kind === 'http') {
            assert.match(step.method, /^(GET|POST)$/);
            assert.ok(step.path.startsWith('/'));
            assert.equal(typeof step.status, 'number');
          } else if (step.kind === 'ws') {
            assert.equal(typeof step.message.type, 'string');
          } else if (step.kind === 'ws-binary') {
            assert.ok([1, 3, 4].includes(step.eventType), `binary event type ${step.eventType}`);
            if (step.eventType === 1) assert.ok(step.imageFormat === 1 || step.imageFormat === 2);
            if (step.eventType === 4) assert.match(String(record(step.metadata)['image_type']), /^image\//);
          } else {
            assert.equal(step.kind, 'note');
          }
        }

        const { queued, removed } = queuedAndRemoved(scenario.steps, scenario.clientId);
        for (const id of queued) {
          const endIndex = scenario.steps.findIndex(
            (s) => s.kind === 'ws' && s.message.type === 'executing' && record(s.message.data)['node'] === null && record(s.message.data)['prompt_id'] === id,
          );
          if (removed.has(id)) {
            assert.equal(endIndex, -1, `removed prompt ${id} should never run`);
            continue;
          }
          assert.notEqual(endIndex, -1, `prompt ${id} has no executing {node: null}`);
          const ended = scenario.steps
            .slice(0, endIndex)
            .some((s) => s.kind === 'ws' && ENDINGS.has(s.message.type) && record(s.message.data)['prompt_id'] === id);
          assert.ok(ended, `prompt ${id} ends without success/error/interrupted`);
        }
      });
    }
  }
});
