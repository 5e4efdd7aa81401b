import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, lstat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { BACKUP_SUFFIX, PARTIAL_SUFFIX, checkRealChain, isStrictlyInside } from './safe-path.js';
import type { CleanupReport } from './types.js';

/**
 * The ephemeral journal: one JSON-lines file per AssetStore instance, named <pid>-<random>.jsonl,
 * in one folder per ComfyUI installation. Every file we may have to take back is written down
 * BEFORE it is created (an "intent"), and marked "done" after; so whatever a killed process left
 * can be undone by the next one. One file per owner means no two processes ever write the same
 * file, and recovery can tell a live owner (leave alone) from a dead one (undo).
 */

/** One change to undo. */
export interface IntentEntry {
  op: 'intent';
  id: string;
  /** 'ephemeral': `path` is ours to delete (or to restore from `backup`); 'partial': only `temp` is. */
  kind: 'ephemeral' | 'partial';
  path: string;
  /** The temporary file we write before renaming it onto `path`. */
  temp?: string;
  /** Where the file we replace was saved; put back on removal. */
  backup?: string;
  pid: number;
  at: string;
}

export type JournalEntry =
  | IntentEntry
  | { op: 'done'; id: string }
  /** The change turned out not to be ours (ComfyUI reused an identical file): never undo it. */
  | { op: 'cancel'; id: string };

export const JOURNAL_DIR_NAME = 'comfy-connector-journal';

export function newId(): string {
  return randomBytes(8).toString('hex');
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function emptyReport(): CleanupReport {
  return { removed: [], restored: [], ignored: [] };
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

export class Journal {
  readonly dir: string;
  readonly file: string;
  readonly owner: string;
  private writes: Promise<void> = Promise.resolve();
  /** The topmost folder this instance's mkdir created (the journal folder, or e.g. `user/` above it). */
  private created: string | undefined;

  constructor(dir: string, owner = `${process.pid}-${newId()}`) {
    this.dir = dir;
    this.owner = owner;
    this.file = join(dir, `${owner}.jsonl`);
  }

  /**
   * Appends one entry; appends are serialised. Intents of ephemeral files and cancellations are
   * synced to disk before this resolves (losing one could delete the wrong file after a power cut);
   * "done" marks and temp-file intents are not: losing them only makes recovery do a harmless
   * check again, and skipping the sync saves milliseconds on every model upload.
   */
  append(entry: JournalEntry): Promise<void> {
    const durable = entry.op === 'cancel' || (entry.op === 'intent' && entry.kind === 'ephemeral');
    const line = `${JSON.stringify(entry)}\n`;
    const next = this.writes.then(async () => {
      const handle = await this.openForAppend();
      try {
        await handle.write(line);
        if (durable) await handle.datasync();
      } finally {
        await handle.close();
      }
    });
    this.writes = next.catch(() => {});
    return next;
  }

  private async openForAppend(): Promise<Awaited<ReturnType<typeof open>>> {
    for (let attempt = 0; ; attempt++) {
      const made = await mkdir(this.dir, { recursive: true });
      if (made !== undefined && this.created === undefined) this.created = made;
      try {
        return await open(this.file, 'a');
      } catch (error) {
        // Another process's cleanup removed the (then empty) folder between mkdir and open.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 2) throw error;
      }
    }
  }

  /** Undoes this instance's own journal, then deletes it (and the journal folder, once empty). */
  async undoOwn(roots: string[]): Promise<CleanupReport> {
    await this.writes;
    const report = await undoFile(this.file, roots);
    await this.removeFolderIfEmpty();
    return report;
  }

  /**
   * A journal folder with no journals in it is removed, so a user's ComfyUI looks as it did: the
   * folder is made again by the next append. Above it, only folders this instance created (such as
   * `user/` where ComfyUI had not made it yet) are removed, and only while empty.
   */
  private async removeFolderIfEmpty(): Promise<void> {
    const stop = this.created ?? this.dir;
    for (let d = this.dir; ; d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return; // not empty (another owner's journal), or gone already
      }
      if (d === stop || dirname(d) === d) return;
    }
  }

  /** Undoes every journal in the folder whose owner process is dead (ours excepted). */
  async recoverDead(roots: string[]): Promise<CleanupReport> {
    const report = emptyReport();
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return report;
    }
    for (const name of names) {
      const match = /^(\d+)-[0-9a-f]+\.jsonl$/.exec(name);
      if (!match) continue;
      if (name === basename(this.file)) continue;
      if (isAlive(Number(match[1]))) continue;
      merge(report, await undoFile(join(this.dir, name), roots));
    }
    await this.writes;
    if (!(await exists(this.file))) await this.removeFolderIfEmpty();
    return report;
  }
}

function merge(into: CleanupReport, from: CleanupReport): void {
  into.removed.push(...from.removed);
  into.restored.push(...from.restored);
  into.ignored.push(...from.ignored);
}

/** Parses a journal file; malformed lines are reported, not trusted. */
export async function readJournal(file: string): Promise<{ intents: IntentEntry[]; done: Set<string>; cancelled: Set<string>; bad: string[] }> {
  const intents: IntentEntry[] = [];
  const done = new Set<string>();
  const cancelled = new Set<string>();
  const bad: string[] = [];
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { intents, done, cancelled, bad };
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      bad.push(line);
      continue;
    }
    const e = entry as Omit<Partial<IntentEntry>, 'op'> & { op?: unknown; id?: unknown };
    if (typeof e.id !== 'string') bad.push(line);
    else if (e.op === 'done') done.add(e.id);
    else if (e.op === 'cancel') cancelled.add(e.id);
    else if (e.op === 'intent' && (e.kind === 'ephemeral' || e.kind === 'partial') && typeof e.path === 'string') intents.push(e as IntentEntry);
    else bad.push(line);
  }
  return { intents, done, cancelled, bad };
}

/**
 * Checks that a journalled path may be touched: absolute, normalised, strictly inside one of the
 * allowed roots, and reached without a symlink leading out. Returns why not, or undefined.
 */
async function whyUnsafe(path: unknown, roots: string[]): Promise<string | undefined> {
  if (typeof path !== 'string' || path.includes('\0')) return 'not a path';
  if (!isAbsolute(path) || normalize(path) !== path) return 'not an absolute normalised path';
  const root = roots.find((r) => isStrictlyInside(r, path));
  if (!root) return "outside ComfyUI's known folders";
  try {
    await checkRealChain(root, path, path);
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
  return undefined;
}

function sideFileOk(side: string | undefined, path: string, suffix: string): boolean {
  if (side === undefined) return true;
  return typeof side === 'string' && dirname(side) === dirname(path) && basename(side).includes(suffix);
}

async function undoIntent(entry: IntentEntry, isDone: boolean, roots: string[], report: CleanupReport): Promise<void> {
  const shown = JSON.stringify(entry);
  for (const p of [entry.path, entry.temp, entry.backup]) {
    if (p === undefined) continue;
    const why = await whyUnsafe(p, roots);
    if (why) {
      report.ignored.push({ entry: shown, reason: `${String(p)}: ${why}` });
      return;
    }
  }
  if (!sideFileOk(entry.temp, entry.path, PARTIAL_SUFFIX) || !sideFileOk(entry.backup, entry.path, BACKUP_SUFFIX)) {
    report.ignored.push({ entry: shown, reason: 'its temporary or backup file is not one of ours beside the target' });
    return;
  }
  if (entry.temp && (await exists(entry.temp))) {
    await rm(entry.temp, { force: true });
    report.removed.push(entry.temp);
  }
  if (entry.kind === 'partial') return;
  if (entry.backup) {
    if (await exists(entry.backup)) {
      // rename is atomic: the original is back in one step, whatever replaced it goes away.
      await rename(entry.backup, entry.path);
      report.restored.push(entry.path);
    } else if (isDone) {
      report.ignored.push({ entry: shown, reason: `the backup ${entry.backup} is gone; ${entry.path} was left as it is` });
    }
    // Not done and no backup: we died before replacing anything, so the original is untouched.
    return;
  }
  if (await exists(entry.path)) {
    await rm(entry.path, { force: true });
    report.removed.push(entry.path);
  }
}

/** Undoes every change one journal file records, newest first, then deletes the file. */
export async function undoFile(file: string, roots: string[]): Promise<CleanupReport> {
  const report = emptyReport();
  const { intents, done, cancelled, bad } = await readJournal(file);
  for (const line of bad) report.ignored.push({ entry: line, reason: 'malformed journal line' });
  let failed = false;
  for (const entry of intents.reverse()) {
    if (cancelled.has(entry.id)) continue;
    if (entry.kind === 'partial' && done.has(entry.id)) continue;
    try {
      await undoIntent(entry, done.has(entry.id), roots, report);
    } catch (error) {
      failed = true;
      report.ignored.push({ entry: JSON.stringify(entry), reason: `could not undo (kept in the journal for the next recovery): ${(error as Error).message}` });
    }
  }
  // A failed undo keeps the journal so the next recover() tries again; everything else is settled.
  if (!failed) await rm(file, { force: true });
  return report;
}
