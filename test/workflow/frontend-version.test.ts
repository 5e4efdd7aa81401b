/**
 * Which frontend native conversion follows: the version profiles, the pack identity 1.58 puts in
 * `_meta` (zNodePackMetadata's rules), and reading the served version from a real server (the
 * stand-in serving each installed frontend package; a plain loopback server for the fallback).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { detectFrontendVersion, frontendProfile } from '../../src/workflow/index.js';
import { packMeta } from '../../src/workflow/frontend-version.js';
import { FRONTEND_VERSIONS, frontendStaticDir, IN_CI } from './corpus.js';
import { startOracleServer } from './oracle-server.js';

describe('frontend version profiles', () => {
  test('1.48.x and older follow 1.48.7; 1.58 and newer follow 1.58.1; unparsable falls back to 1.48.7', () => {
    assert.equal(frontendProfile(undefined).version, '1.48.7');
    assert.equal(frontendProfile('1.30.2').version, '1.48.7');
    assert.equal(frontendProfile('1.57.9').version, '1.48.7');
    assert.equal(frontendProfile('1.58.1').version, '1.58.1');
    assert.equal(frontendProfile('v1.60.0').version, '1.58.1');
    assert.equal(frontendProfile('nonsense').version, '1.48.7');
  });

  test('titles: 1.48.7 prefers its locale, 1.58.1 the server and its locale only for unnamed classes', () => {
    assert.equal(frontendProfile('1.48.7').title('RecraftTextToImageNode', 'Recraft V3 Text to Image'), 'Recraft Text to Image');
    assert.equal(frontendProfile('1.48.7').title('StableCascade_EmptyLatentImage', ''), 'StableCascade_EmptyLatentImage');
    assert.equal(frontendProfile('1.58.1').title('RecraftTextToImageNode', 'Recraft V3 Text to Image'), 'Recraft V3 Text to Image');
    assert.equal(frontendProfile('1.58.1').title('StableCascade_EmptyLatentImage', ''), 'Empty Stable Cascade Latent Image');
    assert.equal(frontendProfile('1.58.1').title('NoSuchClassAnywhere', ''), 'NoSuchClassAnywhere');
  });

  test('pack identity: only values zNodePackMetadata accepts, transformed as it transforms them', () => {
    assert.deepEqual(packMeta({ cnr_id: 'comfy-core', ver: '0.3.44' }), { cnr_id: 'comfy-core', ver: '0.3.44' });
    assert.deepEqual(packMeta({ cnr_id: 'comfy-core', ver: 'v1.2.3' }), { cnr_id: 'comfy-core', ver: '1.2.3' });
    assert.deepEqual(packMeta({ cnr_id: 'x', ver: 'unknown' }), { cnr_id: 'x', ver: 'unknown' });
    assert.deepEqual(packMeta({ aux_id: 'someone/some-repo', ver: 'a1b2c3d' }), { aux_id: 'someone/some-repo', ver: 'a1b2c3d' });
    assert.deepEqual(packMeta({ aux_id: 'not a repo', ver: 'nope', cnr_id: '-bad-' }), {});
    assert.deepEqual(packMeta({ cnr_id: 42, ver: 3 }), {});
    assert.deepEqual(packMeta(undefined), {});
  });
});

describe('detectFrontendVersion', () => {
  test('falls back to /system_stats required_frontend_version when no frontend is served', async (t) => {
    const server = createServer((req, res) => {
      if (req.url === '/system_stats') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ system: { required_frontend_version: '1.52.0' } }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const { port } = server.address() as { port: number };
    assert.equal(await detectFrontendVersion(`http://127.0.0.1:${port}`), '1.52.0');
  });

  test('a server that answers nothing gives undefined', async () => {
    assert.equal(await detectFrontendVersion('http://127.0.0.1:9'), undefined);
  });

  for (const version of FRONTEND_VERSIONS) {
    const missing = frontendStaticDir(version) ? undefined : `frontend ${version} not installed (bash scripts/setup-oracle.sh)`;
    describe(`served frontend ${version}`, { skip: IN_CI ? false : missing ?? false }, () => {
      let stop: (() => Promise<void>) | undefined;
      after(async () => stop?.());
      test(`the stand-in serving ${version} (--front-end-root) reports ${version}, although /system_stats pins 1.48.7`, async () => {
        assert.equal(missing, undefined, missing);
        const server = await startOracleServer(version);
        stop = server.stop;
        assert.equal(await detectFrontendVersion(server.url), version);
      });
    });
  }
});
