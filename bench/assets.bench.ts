/**
 * Assets from anywhere, measured side by side in one run:
 *   - a download from a local HTTP origin into the model cache (stream + sha256 + fsync + rename)
 *     against `curl -o` of the same file (and curl followed by an fsync, the same durability), and
 *     the same download with COMFY_CONNECTOR_DIRECT_IO=0 (the streamed path: node:http, page cache);
 *   - a cache hit (the file known by URL);
 *   - output store writes: FolderStore.put against a plain copy, S3Store.put (streaming multipart,
 *     SeaweedFS on loopback) against one plain PutObject of the same file.
 * Rounds are interleaved so both sides see the same machine state.
 *
 *   npm run bench -- assets
 *   BENCH_ASSETS_MB=64 BENCH_ASSETS_ROUNDS=2 npm run bench -- assets      # quick
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ModelCache } from '../src/model-cache/model-cache.js';
import { FolderStore } from '../src/stores/folder-store.js';
import { S3Store } from '../src/stores/s3-store.js';
import { startSeaweed, weedSkip } from '../test/helpers/seaweed.js';
import { writeSource } from './upload.bench.js';

export interface AssetsBenchRow {
  what: string;
  baseline: string;
  /** Median seconds (or ms for the cache hit), ours and the baseline's. */
  ours: number;
  theirs: number | undefined;
  unit: 's' | 'ms';
  /** ours / theirs: 1.10 means 10% slower than the baseline. */
  ratio: number | undefined;
}

// Async: the origin serves from this very process, so a blocking child would wait on itself.
const run = promisify(execFile);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function fsyncFile(path: string): Promise<void> {
  const h = await open(path, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export async function benchAssets(options: { sizeMB?: number; rounds?: number; log?: (line: string) => void } = {}): Promise<AssetsBenchRow[]> {
  const sizeMB = options.sizeMB ?? Number(process.env.BENCH_ASSETS_MB ?? 1024);
  const rounds = options.rounds ?? Number(process.env.BENCH_ASSETS_ROUNDS ?? 3);
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = await mkdtemp(join(tmpdir(), 'bench-assets-'));
  let originChild: ChildProcess | undefined;
  const skipS3 = weedSkip();
  const weed = skipS3 ? undefined : await startSeaweed();
  try {
    const source = join(dir, 'model.safetensors');
    await writeSource(source, sizeMB);
    const url = await new Promise<string>((resolve, reject) => {
      originChild = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./origin-child.ts', import.meta.url)), source], { stdio: ['pipe', 'pipe', 'inherit'] });
      originChild.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
      originChild.once('exit', (code) => reject(new Error(`the origin exited (${code})`)));
    });
    const t = { curl: [] as number[], curlSync: [] as number[], cache: [] as number[], cachePlain: [] as number[], hit: [] as number[], copy: [] as number[], folder: [] as number[], put: [] as number[], s3: [] as number[] };
    const bucket = 'bench-assets';
    let admin: S3Client | undefined;
    let s3: S3Store | undefined;
    if (weed) {
      admin = new S3Client({ endpoint: weed.endpoint, region: weed.region, forcePathStyle: true, credentials: weed.admin, requestChecksumCalculation: 'WHEN_REQUIRED' });
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      s3 = new S3Store({ bucket, endpoint: weed.endpoint, region: weed.region, credentials: weed.admin });
    }
    for (let r = 0; r < rounds; r++) {
      const curlOut = join(dir, 'curl.out');
      t.curl.push(await timed(() => run('curl', ['-sS', '-o', curlOut, url])));
      await rm(curlOut, { force: true });
      t.curlSync.push(await timed(async () => {
        await run('curl', ['-sS', '-o', curlOut, url]);
        await fsyncFile(curlOut);
      }));
      await rm(curlOut, { force: true });
      const cacheDir = join(dir, `cache-${r}`);
      const cache = new ModelCache({ dir: cacheDir, fetch: { allowPrivateNetwork: true } });
      await cache.open();
      t.cache.push(await timed(() => cache.get(url)));
      for (let i = 0; i < 50; i++) t.hit.push((await timed(() => cache.get(url))) * 1000);
      await rm(cacheDir, { recursive: true, force: true });
      // The same download on the streamed path this replaced (node:http, hash on the event loop, page cache).
      const plain = new ModelCache({ dir: cacheDir, fetch: { allowPrivateNetwork: true, env: { COMFY_CONNECTOR_DIRECT_IO: '0' } } });
      await plain.open();
      t.cachePlain.push(await timed(() => plain.get(url)));
      await rm(cacheDir, { recursive: true, force: true });

      const copyOut = join(dir, 'copy.out');
      t.copy.push(await timed(async () => {
        await copyFile(source, copyOut);
        await fsyncFile(copyOut);
      }));
      await rm(copyOut, { force: true });
      const folder = new FolderStore(join(dir, 'store'));
      t.folder.push(await timed(() => folder.put(`runs/r${r}/out.bin`, createReadStream(source, { highWaterMark: 1 << 20 }), { mime: 'application/octet-stream' })));
      await rm(join(dir, 'store'), { recursive: true, force: true });

      if (admin && s3) {
        const size = (await stat(source)).size;
        t.put.push(await timed(() => admin!.send(new PutObjectCommand({ Bucket: bucket, Key: `plain/r${r}.bin`, Body: createReadStream(source, { highWaterMark: 1 << 20 }), ContentLength: size }))));
        t.s3.push(await timed(() => s3!.put(`runs/r${r}/out.bin`, createReadStream(source, { highWaterMark: 1 << 20 }), { mime: 'application/octet-stream' })));
        await s3.delete(`runs/r${r}/out.bin`);
        await admin.send(new PutObjectCommand({ Bucket: bucket, Key: `plain/r${r}.bin`, Body: '' }));
      }
      log(`round ${r + 1}/${rounds} done`);
    }
    admin?.destroy();
    s3?.client.destroy();
    const row = (what: string, baseline: string, ours: number[], theirs: number[] | undefined, unit: 's' | 'ms' = 's'): AssetsBenchRow => {
      const o = median(ours);
      const b = theirs?.length ? median(theirs) : undefined;
      return { what, baseline, ours: o, theirs: b, unit, ratio: b ? o / b : undefined };
    };
    const rows: AssetsBenchRow[] = [
      row(`download ${sizeMB} MiB → cache (sha256, fsync)`, 'curl -o', t.cache, t.curl),
      row(`download ${sizeMB} MiB → cache (sha256, fsync)`, 'curl -o + fsync', t.cache, t.curlSync),
      row(`same, COMFY_CONNECTOR_DIRECT_IO=0 (the old streamed path)`, 'curl -o', t.cachePlain, t.curl),
      row('cache hit (known URL)', '(goal ≤ 5 ms)', t.hit, undefined, 'ms'),
      row(`FolderStore.put ${sizeMB} MiB`, 'copyFile + fsync', t.folder, t.copy),
      ...(t.s3.length ? [row(`S3Store.put ${sizeMB} MiB (multipart)`, 'one PutObject', t.s3, t.put)] : []),
    ];
    const mbps = (s: number): string => `${(sizeMB / s).toFixed(0)} MiB/s`;
    log(`\n| what | ours | baseline | baseline time | ours / baseline |`);
    log(`|---|---|---|---|---|`);
    for (const r of rows) {
      const ours = r.unit === 'ms' ? `${r.ours.toFixed(2)} ms (median of ${t.hit.length})` : `${r.ours.toFixed(2)} s (${mbps(r.ours)})`;
      const theirs = r.theirs === undefined ? '' : `${r.theirs.toFixed(2)} s (${mbps(r.theirs)})`;
      log(`| ${r.what} | ${ours} | ${r.baseline} | ${theirs} | ${r.ratio === undefined ? '' : r.ratio.toFixed(2)} |`);
    }
    const each = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' ');
    log(`download rounds (s): ours ${each(t.cache)} | curl -o ${each(t.curl)} | curl -o + fsync ${each(t.curlSync)} | DIRECT_IO=0 ${each(t.cachePlain)}`);
    if (skipS3) log(`(S3 rows skipped: ${skipS3})`);
    log(`(${rounds} rounds, medians; ${sizeMB} MiB incompressible file; loopback origin in its own process; one machine, 2 cores shared)`);
    return rows;
  } finally {
    if (originChild && originChild.exitCode === null) {
      const exited = new Promise((r) => originChild!.once('exit', r));
      originChild.stdin!.end();
      await exited;
    }
    await weed?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchAssets();
