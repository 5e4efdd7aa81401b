// The same worker assertions on the stand-in and on real ComfyUI (when COMFYUI_PATH and
// COMFYUI_PYTHON are set): jobs with distinct outputs and an input by value run end to end, the
// outputs land in the store, and nothing of the jobs stays on the server's disk.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { connectorTargets, pngSize, tinyPng } from '../connector/harness.js';
import { redisSkip } from '../helpers/redis.js';
import { expectedSize, sizedPrompt, startFleet } from './fixtures.js';

const skip = redisSkip();

function images(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true }).map(String).filter((f) => /\.png$/.test(f));
  } catch {
    return [];
  }
}

for (const target of connectorTargets()) {
  test(`worker on ${target.name}: jobs run end to end, outputs in the store, nothing left on the server`, { skip: skip ?? target.skip, timeout: 300_000 }, async (t) => {
    const fleet = await startFleet(t);
    const { options, base, cleanup } = target.options();
    t.after(cleanup); // registered after the fleet's: runs once the worker has stopped
    await fleet.worker({ servers: [options], lockDurationMs: 30_000, stalledIntervalMs: 30_000 });
    const handles = await Promise.all([1, 2].map((i) => fleet.queue.submit(sizedPrompt(i, `fleet${i}`))));
    const withInput = await fleet.queue.submit(
      {
        '1': { class_type: 'LoadImage', inputs: { image: 'x.png' } },
        '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
        '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'fleetin' } },
      },
      { inputs: { '1.image': tinyPng(6, 4) } },
    );
    const results = await Promise.all([...handles, withInput].map((h) => h.result()));
    const sizes = results.map((r) => {
      const out = r.outputs.find((o) => o.stored);
      assert.ok(out?.stored?.url);
      assert.equal(out.mime, 'image/png');
      return pngSize(readFileSync(fileURLToPath(out.stored.url)));
    });
    assert.deepEqual(sizes, [expectedSize(1), expectedSize(2), { width: 6, height: 4 }]);
    assert.deepEqual(images(join(base, 'output')), [], 'outputs removed from the server once stored');
    assert.deepEqual(images(join(base, 'input')), [], 'the ephemeral input is gone');
  });
}
