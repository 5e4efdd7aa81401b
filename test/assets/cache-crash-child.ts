// Started by model-cache.test.ts: downloads a slow URL into a cache and is SIGKILLed mid-way.
import { ModelCache } from '../../src/model-cache/model-cache.js';

const [dir, url] = process.argv.slice(2);
const cache = new ModelCache({ dir: dir!, fetch: { allowPrivateNetwork: true } });
await cache.get(url!, { onProgress: (p) => { if (p.received > 100_000) process.stdout.write('started\n'); }, });
process.stdout.write('finished\n');
