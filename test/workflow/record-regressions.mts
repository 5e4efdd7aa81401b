/**
 * Records the real frontend's prompts for the regression cases (test/workflow/regressions.ts) into
 * test/fixtures/oracle-<version>/regressions/<id>.json for every frontend version installed by
 * scripts/setup-oracle.sh, so regressions.test.ts needs no browser.
 * Run: node --import tsx test/workflow/record-regressions.mts   (needs /usr/bin/chromium)
 * PROBE=1 also prints the frontend's prompt for a few probing variants without storing them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrowserConverter } from '../../src/workflow/browser.js';
import { fetchObjectInfo, startOracleServer } from './oracle-server.js';
import { FRONTEND_VERSIONS, frontendStaticDir, parityConvertOptions } from './corpus.js';
import { oracleFixtureDir } from './parity-fixture.js';
import { REGRESSION_CASES } from './regressions.js';

for (const version of FRONTEND_VERSIONS) {
  if (!frontendStaticDir(version)) {
    console.log(`frontend ${version} not installed (bash scripts/setup-oracle.sh): skipped`);
    continue;
  }
  const server = await startOracleServer(version);
  const converter = new BrowserConverter({ url: server.url });
  try {
    await fetchObjectInfo(server.url);
    const dir = join(oracleFixtureDir(version), 'regressions');
    mkdirSync(dir, { recursive: true });
    for (const c of REGRESSION_CASES) {
      if (!c.available()) continue;
      const output = await converter.convert(c.workflow(), parityConvertOptions());
      const file = join(dir, `${c.id}.json`);
      writeFileSync(file, `${JSON.stringify(output, null, 1)}\n`);
      console.log(`${version} ${c.id}: ${Object.keys(output).length} nodes -> ${file}`);
    }
  } finally {
    await converter.close();
    await server.stop();
  }
}
