/**
 * Records the real frontend's prompts for the regression cases (test/workflow/regressions.ts) into
 * test/fixtures/oracle-1.48.7/regressions/<id>.json, so regressions.test.ts needs no browser.
 * Run: node --import tsx test/workflow/record-regressions.mts   (needs /usr/bin/chromium)
 * PROBE=1 also prints the frontend's prompt for a few probing variants without storing them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrowserConverter } from '../../src/workflow/browser.js';
import { fetchObjectInfo, startOracleServer } from './oracle-server.js';
import { parityConvertOptions } from './corpus.js';
import { ORACLE_FIXTURE_DIR } from './parity-fixture.js';
import { REGRESSION_CASES } from './regressions.js';

const server = await startOracleServer();
const converter = new BrowserConverter({ url: server.url });
try {
  await fetchObjectInfo(server.url);
  for (const c of REGRESSION_CASES) {
    const output = await converter.convert(c.workflow(), parityConvertOptions());
    const file = join(ORACLE_FIXTURE_DIR, 'regressions', `${c.id}.json`);
    writeFileSync(file, `${JSON.stringify(output, null, 1)}\n`);
    console.log(`${c.id}: ${Object.keys(output).length} nodes -> ${file}`);
  }
} finally {
  await converter.close();
  await server.stop();
}
