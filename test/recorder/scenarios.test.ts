import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIOS } from '../../scripts/recorder/scenarios.js';
import { comfyArgs } from '../../scripts/recorder/launch.js';
import { frontendVersionOf } from '../../scripts/recorder/record.js';

describe('recorder scenario list', () => {
  test('names are unique kebab-case file names with a description', () => {
    const names = SCENARIOS.map((s) => s.name);
    assert.equal(new Set(names).size, names.length);
    for (const s of SCENARIOS) {
      assert.match(s.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.ok(s.description.length > 10, s.name);
    }
  });

  test('both preview frame kinds are covered: one scenario with feature flags, one without', () => {
    const previews = SCENARIOS.filter((s) => s.name.startsWith('previews-'));
    assert.deepEqual(previews.map((s) => s.featureFlags).sort(), [false, true]);
  });

  test('only the SlowCounter/Raise scenarios and the preview ones depend on non-core classes', () => {
    const allowed = new Set(['ComfyConnectorSlowCounter', 'ComfyConnectorRaise', 'SaveImageWebsocket', 'VAEEncodeTiled', 'VAEDecodeTiled']);
    for (const s of SCENARIOS) for (const cls of s.requires) assert.ok(allowed.has(cls), `${s.name} requires ${cls}`);
  });
});

describe('comfyArgs', () => {
  test('starts ComfyUI on CPU with private folders, an in-memory db, the test pack and previews', () => {
    const args = comfyArgs('/c/main.py', 4321, { temp: '/t', input: '/i', output: '/o' }, '/x/extra.yaml');
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(args[0], '/c/main.py');
    assert.ok(args.includes('--cpu'));
    assert.equal(after('--port'), '4321');
    assert.equal(after('--temp-directory'), '/t');
    assert.equal(after('--input-directory'), '/i');
    assert.equal(after('--output-directory'), '/o');
    assert.equal(after('--database-url'), 'sqlite:///:memory:');
    assert.equal(after('--extra-model-paths-config'), '/x/extra.yaml');
    assert.equal(after('--preview-method'), 'auto');
  });
});

describe('frontendVersionOf', () => {
  test('prefers the installed frontend package, falls back to required_frontend_version', () => {
    const packages = [{ name: 'comfyui-frontend-package', installed: '1.2.3', required: '1.2.0' }];
    assert.equal(frontendVersionOf({ system: { comfy_package_versions: packages, required_frontend_version: '9' } }), '1.2.3');
    assert.equal(frontendVersionOf({ system: { required_frontend_version: '1.0.0' } }), '1.0.0');
    assert.equal(frontendVersionOf({}), null);
  });
});
