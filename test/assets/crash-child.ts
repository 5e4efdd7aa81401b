// Child process for crash.test.ts: uploads ephemeral files, says so, then waits to be SIGKILLed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetStore, type AssetServerPaths } from '../../src/assets/index.js';
import { DiskRouteClient } from './fixtures.js';

const paths = JSON.parse(process.argv[2] as string) as AssetServerPaths;
const store = new AssetStore({ client: new DiskRouteClient(paths), paths });
await store.upload([
  { source: Buffer.from('ephemeral image'), to: 'input', name: 'cat.png', overwrite: true, ephemeral: true },
  { source: Buffer.from('ephemeral lora'), to: 'loras', name: 'tmp.safetensors', subfolder: 'session', ephemeral: true },
  { source: Buffer.from('kept lora'), to: 'loras', name: 'kept.safetensors' },
]);
writeFileSync(join(paths.instanceDirectory ?? paths.baseDirectory, 'child-ready'), String(process.pid));
process.stdout.write('READY\n');
setInterval(() => {}, 1000); // stay alive until killed
