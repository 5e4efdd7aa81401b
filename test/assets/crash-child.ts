// Child process for the crash tests: uploads ephemeral files, says READY, then waits to be SIGKILLed.
// argv: <paths JSON> [ComfyUI URL]: with a URL, images go through that server's real upload route.
import { AssetStore, type AssetServerPaths, type UploadClient } from '../../src/assets/index.js';
import { ComfyClient } from '../../src/client/index.js';
import { DiskRouteClient } from './fixtures.js';

const paths = JSON.parse(process.argv[2] as string) as AssetServerPaths;
const url = process.argv[3];
const client: UploadClient = url ? new ComfyClient({ url }) : new DiskRouteClient(paths);
const store = new AssetStore({ client, paths });
await store.upload([
  { source: Buffer.from('ephemeral image'), to: 'input', name: 'crash-cat.png', overwrite: true, ephemeral: true },
  { source: Buffer.from('ephemeral new image'), to: 'input', name: 'crash-new.png', ephemeral: true },
  { source: Buffer.from('ephemeral lora'), to: 'loras', name: 'tmp.safetensors', subfolder: 'session', ephemeral: true },
  { source: Buffer.from('kept lora'), to: 'loras', name: 'kept.safetensors' },
]);
process.stdout.write('READY\n');
setInterval(() => {}, 1000); // stay alive until killed
