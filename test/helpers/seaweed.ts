// A real S3-compatible server for the tests: SeaweedFS's `weed server` on free loopback ports,
// with its own data folder and two identities (one that may do everything, one that may only
// read), so access denial is real too. stop() kills the process group and deletes the folder.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT, spawnLogged } from './targets.js';

export const WEED_PATH = process.env.WEED_PATH ?? join(REPO_ROOT, '.cache', 'seaweedfs', 'bin', 'weed');

/** Set when weed cannot run here (pass to node:test's `skip`); with CI=true a missing weed fails. */
export function weedSkip(): string | undefined {
  if (existsSync(WEED_PATH)) return undefined;
  if (process.env.CI === 'true') throw new Error(`weed is missing at ${WEED_PATH}: CI installs it (scripts/setup-seaweedfs.sh)`);
  return `weed not found at ${WEED_PATH} (run scripts/setup-seaweedfs.sh or set WEED_PATH): S3 tests skipped`;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Seaweed {
  endpoint: string;
  region: string;
  /** May create buckets, read, write and delete. */
  admin: S3Credentials;
  /** May only read and list. */
  reader: S3Credentials;
  log(): string;
  stop(): Promise<void>;
}

async function waitForS3(endpoint: string, timeoutMs: number, log: () => string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`weed exited before answering S3:\n${log().slice(-3000)}`);
    try {
      const res = await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      // Anything from the S3 gateway (403 to an anonymous list) means it is serving.
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`weed did not answer S3 at ${endpoint} within ${timeoutMs} ms:\n${log().slice(-3000)}`);
}

export async function startSeaweed(options: { timeoutMs?: number } = {}): Promise<Seaweed> {
  const dir = await mkdtemp(join(tmpdir(), 'seaweed-'));
  const admin = { accessKeyId: 'test-admin', secretAccessKey: `admin-${Math.random().toString(36).slice(2)}` };
  const reader = { accessKeyId: 'test-reader', secretAccessKey: `reader-${Math.random().toString(36).slice(2)}` };
  const config = join(dir, 's3.json');
  await writeFile(config, JSON.stringify({
    identities: [
      { name: 'admin', credentials: [{ accessKey: admin.accessKeyId, secretKey: admin.secretAccessKey }], actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'] },
      { name: 'reader', credentials: [{ accessKey: reader.accessKeyId, secretKey: reader.secretAccessKey }], actions: ['Read', 'List'] },
    ],
  }));
  const data = join(dir, 'data');
  await mkdir(data);
  // weed binds many ports; a free port can be taken between our check and its bind, so a start
  // that dies early is retried with new ports.
  for (let attempt = 1; ; attempt++) {
    const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
    if (new Set(ports).size !== ports.length) continue;
    const [s3, master, volume, filer, s3Grpc, masterGrpc, volumeGrpc, filerGrpc] = ports as [number, number, number, number, number, number, number, number];
    const proc = spawnLogged([
      WEED_PATH, 'server', '-ip=127.0.0.1', '-ip.bind=127.0.0.1', `-dir=${data}`,
      '-s3', `-s3.port=${s3}`, `-s3.config=${config}`, `-master.port=${master}`, `-volume.port=${volume}`, `-filer.port=${filer}`,
      `-s3.port.grpc=${s3Grpc}`, `-master.port.grpc=${masterGrpc}`, `-volume.port.grpc=${volumeGrpc}`, `-filer.port.grpc=${filerGrpc}`,
      // Fixed default ports (8181, 9101) would collide between two weeds on one machine.
      '-s3.port.iceberg=0', '-s3.port.lance=0',
      `-s3.localSocket=${join(dir, 's3.sock')}`, `-filer.localSocket=${join(dir, 'filer.sock')}`,
    ], { TMPDIR: dir });
    // weed puts its gRPC unix sockets at fixed /tmp names whatever TMPDIR says.
    const sockets = [`master-grpc-${masterGrpc}`, `volume-grpc-${volumeGrpc}`, `s3-grpc-${s3Grpc}`, `filer-grpc-${filerGrpc}`].map((n) => `/tmp/seaweedfs-${n}.sock`);
    let gone = false;
    void proc.exited.then(() => { gone = true; });
    const endpoint = `http://127.0.0.1:${s3}`;
    const stopProcess = async (): Promise<void> => {
      if (!gone) {
        try { process.kill(-proc.child.pid!, 'SIGTERM'); } catch { /* already gone */ }
        const killer = setTimeout(() => { try { process.kill(-proc.child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
        await proc.exited;
        clearTimeout(killer);
      }
      for (const sock of sockets) await rm(sock, { force: true });
    };
    const stop = async (): Promise<void> => {
      await stopProcess();
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await waitForS3(endpoint, options.timeoutMs ?? 60_000, proc.log, () => gone);
    } catch (error) {
      await stopProcess();
      if (gone && attempt < 3 && /address already in use/.test(proc.log())) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return { endpoint, region: 'us-east-1', admin, reader, log: proc.log, stop };
  }
}
