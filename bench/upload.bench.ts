/**
 * Upload throughput of a model file through AssetStore.upload (temp file + copyFile + fsync +
 * atomic link) against a plain fs.copyFile on the same disk, interleaved in one run.
 *
 *   node --import tsx bench/upload.bench.ts
 *   BENCH_UPLOAD_MB=64 BENCH_UPLOAD_ROUNDS=2 node --import tsx bench/upload.bench.ts   # quick
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AssetStore, type AssetServerPaths, type UploadClient } from '../src/assets/index.js';

export interface UploadBenchResult {
  sizeMB: number;
  rounds: number;
  /** Median MB/s of each method. */
  copyMBps: number;
  copyFsyncMBps: number;
  uploadMBps: number;
  /** upload / copy: 1 means as fast as a plain copy; the goal is >= 0.9. */
  ratioToCopy: number;
  /** upload / (copy + fsync): the same durability on both sides. */
  ratioToCopyFsync: number;
}

const noClient: UploadClient = {
  uploadImage: () => Promise.reject(new Error('not used by this benchmark')),
  uploadMask: () => Promise.reject(new Error('not used by this benchmark')),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A file of sizeMB MiB of incompressible bytes, synced; the benchmarks' common source. */
export async function writeSource(path: string, sizeMB: number): Promise<void> {
  // Incompressible bytes, so no layer below can cheat; one random MiB repeated.
  const block = randomBytes(1024 * 1024);
  const handle = await open(path, 'w');
  try {
    for (let i = 0; i < sizeMB; i++) await handle.write(block);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function benchUpload(options: { sizeMB?: number; rounds?: number; dir?: string; log?: (line: string) => void } = {}): Promise<UploadBenchResult> {
  const sizeMB = options.sizeMB ?? Number(process.env.BENCH_UPLOAD_MB ?? 1024);
  const rounds = options.rounds ?? Number(process.env.BENCH_UPLOAD_ROUNDS ?? 3);
  const log = options.log ?? ((line: string) => console.log(line));
  const root = await mkdtemp(join(options.dir ?? tmpdir(), 'cc-bench-upload-'));
  try {
    const base = join(root, 'base');
    const paths: AssetServerPaths = {
      comfyuiPath: join(root, 'ComfyUI'),
      baseDirectory: base,
      inputDirectory: join(base, 'input'),
      outputDirectory: join(base, 'output'),
      tempDirectory: join(base, 'temp'),
      userDirectory: join(base, 'user'),
      extraModelPaths: [],
    };
    const plainDir = join(root, 'plain');
    await mkdir(plainDir, { recursive: true });
    const source = join(root, 'source.safetensors');
    log(`writing a ${sizeMB} MB source file in ${root}`);
    await writeSource(source, sizeMB);
    const store = new AssetStore({ client: noClient, paths });
    const times = { copy: [] as number[], copyFsync: [] as number[], upload: [] as number[] };

    const methods: Record<keyof typeof times, (i: number) => Promise<number>> = {
      copy: async (i) => {
        const dest = join(plainDir, `copy-${i}.bin`);
        const s = await timed(() => copyFile(source, dest));
        await rm(dest);
        return s;
      },
      copyFsync: async (i) => {
        const dest = join(plainDir, `copy-fsync-${i}.bin`);
        const s = await timed(async () => {
          await copyFile(source, dest);
          const h = await open(dest, 'r+');
          await h.sync();
          await h.close();
        });
        await rm(dest);
        return s;
      },
      upload: async (i) => {
        let path = '';
        const s = await timed(async () => {
          const [item] = await store.upload([{ source, to: 'checkpoints', name: `bench-${i}.safetensors` }]);
          path = item?.path as string;
        });
        await rm(path);
        return s;
      },
    };
    const order: Array<keyof typeof times> = ['copy', 'copyFsync', 'upload'];
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so no method always runs right after another's writes.
      const rotated = [...order.slice(round % 3), ...order.slice(0, round % 3)];
      for (const method of rotated) {
        const seconds = await methods[method](round);
        times[method].push(seconds);
        log(`round ${round + 1} ${method.padEnd(9)} ${(sizeMB / seconds).toFixed(0).padStart(6)} MB/s (${seconds.toFixed(2)} s)`);
      }
    }
    await store.removeEphemeral(); // drops the (empty) journal
    const mbps = (xs: number[]): number => sizeMB / median(xs);
    const result: UploadBenchResult = {
      sizeMB,
      rounds,
      copyMBps: mbps(times.copy),
      copyFsyncMBps: mbps(times.copyFsync),
      uploadMBps: mbps(times.upload),
      ratioToCopy: mbps(times.upload) / mbps(times.copy),
      ratioToCopyFsync: mbps(times.upload) / mbps(times.copyFsync),
    };
    log(
      `median: copy ${result.copyMBps.toFixed(0)} MB/s, copy+fsync ${result.copyFsyncMBps.toFixed(0)} MB/s, ` +
        `store.upload ${result.uploadMBps.toFixed(0)} MB/s; upload/copy ${result.ratioToCopy.toFixed(2)}, upload/(copy+fsync) ${result.ratioToCopyFsync.toFixed(2)}`,
    );
    return result;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchUpload().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
