import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ComfyError, RemoteUnsupportedError, UnknownFolderError, UnsafePathError, UploadError } from '../errors.js';
import { NameTakenError, chooseName, commit, contentOfFile, exists, fsyncDir, writeTemp, type ContentId } from './atomic.js';
import { NOT_UPLOADABLE, allowedRoots, mapLegacyKey, resolveModelFolders, type FolderMap } from './folders.js';
import { JOURNAL_DIR_NAME, Journal, newId } from './journal.js';
import { BACKUP_SUFFIX, PARTIAL_SUFFIX, checkFileName, resolveInside, splitSubfolder } from './safe-path.js';
import { checkSource, describeItem, itemName, routePayload } from './source.js';
import type {
  AssetServerPaths,
  AssetStoreOptions,
  CleanupReport,
  RouteFolder,
  UploadClient,
  UploadedItem,
  UploadItem,
  UploadResponse,
} from './types.js';

const ROUTE_FOLDERS: ReadonlySet<string> = new Set(['input', 'output', 'temp']);

function isRouteFolder(to: string): to is RouteFolder {
  return ROUTE_FOLDERS.has(to);
}

/** "sub/cat.png" for input; output and temp files carry ComfyUI's " [output]" / " [temp]" annotation. */
function workflowName(folder: RouteFolder, subfolder: string[], filename: string): string {
  const rel = [...subfolder, filename].join('/');
  return folder === 'input' ? rel : `${rel} [${folder}]`;
}

function emptyReport(): CleanupReport {
  return { removed: [], restored: [], ignored: [] };
}

/**
 * Puts files into a ComfyUI's folders. Images and masks go through the server's upload routes
 * (so a remote server works the same); model files of a managed server are written to disk
 * atomically. Ephemeral files are journalled before they exist, and removeEphemeral() (or, after a
 * crash, the next instance's recover()) deletes them and restores what they replaced. Nothing is
 * ever written or deleted outside ComfyUI's own folders.
 */
export class AssetStore {
  private readonly client: UploadClient;
  private readonly paths: AssetServerPaths | undefined;
  private readonly folders: FolderMap | undefined;
  private readonly roots: string[];
  private readonly journal: Journal | undefined;
  private readonly onModelsChanged: (() => void | Promise<void>) | undefined;
  private readonly warn: (message: string) => void;
  private queue: Promise<unknown> = Promise.resolve();
  /** Our own completed ephemeral changes by path (this instance, since the last removeEphemeral). */
  private readonly owned = new Map<string, Array<{ id: string; backup: string | undefined }>>();

  constructor(options: AssetStoreOptions) {
    this.client = options.client;
    this.paths = options.paths;
    this.onModelsChanged = options.onModelsChanged;
    this.warn = options.onWarning ?? ((m) => process.emitWarning(m, { code: 'COMFY_ASSETS' }));
    if (options.paths) {
      this.folders = resolveModelFolders(options.paths, this.warn);
      this.roots = allowedRoots(options.paths, this.folders);
    } else {
      this.folders = undefined;
      this.roots = [];
    }
    const journalDir = options.journalPath ?? (options.paths ? join(options.paths.baseDirectory, 'user', JOURNAL_DIR_NAME) : undefined);
    this.journal = journalDir ? new Journal(resolve(journalDir)) : undefined;
  }

  /** The folders this store may write into and delete from (empty for a remote server). */
  get allowedRoots(): readonly string[] {
    return this.roots;
  }

  /** Model folder keys and their folders, in ComfyUI's search order (undefined for a remote server). */
  get modelFolders(): ReadonlyMap<string, readonly string[]> | undefined {
    return this.folders;
  }

  /** Where this instance's journal file lives (undefined for a remote server). */
  get journalFile(): string | undefined {
    return this.journal?.file;
  }

  /**
   * Uploads the items in order. Every item is validated first: a bad name, subfolder or folder
   * key fails the whole call before anything is written.
   */
  upload(items: UploadItem[]): Promise<UploadedItem[]> {
    return this.serialise(async () => {
      for (const item of items) await this.validate(item);
      const results: UploadedItem[] = [];
      let modelsChanged = false;
      try {
        for (const item of items) {
          if (isRouteFolder(item.to)) results.push(await this.uploadThroughRoute(item, item.to));
          else {
            const uploaded = await this.writeModel(item);
            if (!uploaded.reused) modelsChanged = true;
            results.push(uploaded);
          }
        }
      } finally {
        if (modelsChanged && this.onModelsChanged) await this.onModelsChanged();
      }
      return results;
    });
  }

  /** Deletes this instance's ephemeral files, restores what they replaced, clears the journal. */
  removeEphemeral(): Promise<CleanupReport> {
    return this.serialise(async () => {
      if (!this.journal) return emptyReport();
      this.owned.clear();
      return this.report(await this.journal.undoOwn(this.roots));
    });
  }

  /** Undoes what a crashed or killed earlier instance (a dead process) left in the journal folder. */
  recover(): Promise<CleanupReport> {
    return this.serialise(async () => {
      if (!this.journal) return emptyReport();
      return this.report(await this.journal.recoverDead(this.roots));
    });
  }

  private report(report: CleanupReport): CleanupReport {
    for (const { entry, reason } of report.ignored) this.warn(`ephemeral journal entry not acted on (${reason}): ${entry}`);
    return report;
  }

  private serialise<T>(job: () => Promise<T>): Promise<T> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => {});
    return next;
  }

  // ------------------------------------------------------------------ validation

  private async knownKeys(): Promise<string[]> {
    const keys = new Set<string>(ROUTE_FOLDERS);
    for (const key of this.folders?.keys() ?? []) if (!NOT_UPLOADABLE.has(key)) keys.add(key);
    if (this.client.models) {
      try {
        for (const key of await this.client.models()) if (!NOT_UPLOADABLE.has(key)) keys.add(key);
      } catch {
        // The list is only for the error message.
      }
    }
    return [...keys];
  }

  private async validate(item: UploadItem): Promise<void> {
    if (!item || typeof item !== 'object') throw new UploadError(String(item), 'an upload item must be an object { source, to, ... }.');
    checkSource(item);
    if (typeof item.to !== 'string' || item.to === '') throw new UploadError(describeItem(item), 'UploadItem.to is missing.');
    const name = itemName(item);
    checkFileName(name);
    splitSubfolder(item.subfolder);
    if (isRouteFolder(item.to)) {
      if (item.mask) {
        const ref = item.mask.originalRef;
        if (!ref || typeof ref.filename !== 'string') throw new UploadError(describeItem(item), 'mask.originalRef.filename is missing.');
        if (ref.filename.startsWith('/') || ref.filename.includes('..') || ref.filename.includes('\0')) {
          throw new UnsafePathError(ref.filename, 'mask.originalRef.filename must be a plain name inside its folder');
        }
        splitSubfolder(ref.subfolder);
        if (ref.type !== undefined && !isRouteFolder(ref.type)) throw new UploadError(describeItem(item), 'mask.originalRef.type must be input, output or temp.');
      }
      if (item.ephemeral && !this.paths) {
        throw new RemoteUnsupportedError(
          `Deleting "${name}" again later (ephemeral: true) needs the server's folders; ComfyUI has no route to delete an upload, so upload it without ephemeral`,
        );
      }
      if (this.paths) {
        const { path } = await resolveInside(this.routeRoot(item.to), item.subfolder, name);
        // ComfyUI overwrites in place (open 'wb'): a hard-linked file would change elsewhere too.
        if (item.overwrite && (await hardLinked(path))) {
          throw new UnsafePathError(join(item.subfolder ?? '', name), `${path} has other hard links, so overwriting it in place would also change files elsewhere`);
        }
      }
      return;
    }
    if (item.mask) throw new UploadError(describeItem(item), `masks go to input, output or temp, not to the model folder "${item.to}".`);
    const key = mapLegacyKey(item.to);
    if (!this.folders) {
      throw new RemoteUnsupportedError(`Writing the model file "${name}" into "${item.to}"`);
    }
    const list = this.folders.get(key);
    if (!list || list.length === 0 || NOT_UPLOADABLE.has(key)) {
      const known = await this.knownKeys();
      if (!NOT_UPLOADABLE.has(key) && known.includes(key)) {
        throw new UploadError(
          describeItem(item),
          `the server knows the folder key "${key}", but a custom node added it at run time, so its folders are unknown here. List them in an extra_model_paths yaml file (extraModelPaths) and restart.`,
        );
      }
      throw new UnknownFolderError(item.to, known);
    }
    await resolveInside(list[0] as string, item.subfolder, name);
  }

  private routeRoot(folder: RouteFolder): string {
    const paths = this.paths as AssetServerPaths;
    return resolve(folder === 'input' ? paths.inputDirectory : folder === 'output' ? paths.outputDirectory : paths.tempDirectory);
  }

  // ------------------------------------------------------------------ images and masks

  private async send(item: UploadItem, folder: RouteFolder, data: Buffer | Blob, filename: string, subfolder: string, overwrite: boolean): Promise<UploadResponse> {
    const common = { data, filename, type: folder, overwrite, ...(subfolder ? { subfolder } : {}) };
    try {
      const response = item.mask
        ? await this.client.uploadMask({ ...common, originalRef: item.mask.originalRef })
        : await this.client.uploadImage(common);
      if (typeof response?.name !== 'string') throw new UploadError(describeItem(item), `the server answered without a file name: ${JSON.stringify(response)}`);
      checkFileName(response.name); // never join a name the server made up without checking it
      return response;
    } catch (error) {
      if (error instanceof ComfyError) throw error;
      throw new UploadError(describeItem(item), (error as Error).message, error);
    }
  }

  private async uploadThroughRoute(item: UploadItem, folder: RouteFolder): Promise<UploadedItem> {
    const name = itemName(item);
    const segments = splitSubfolder(item.subfolder);
    const subfolder = segments.join('/');
    const overwrite = item.overwrite === true;
    const ephemeral = item.ephemeral === true;
    let data: Buffer | Blob;
    let content: ContentId;
    try {
      ({ data, content } = await routePayload(item.source));
    } catch (error) {
      throw new UploadError(describeItem(item), `could not read the source: ${(error as Error).message}`, error);
    }
    const base = { folder, subfolder };

    if (!this.paths) {
      const response = await this.send(item, folder, data, name, subfolder, overwrite);
      return { ...base, name: workflowName(folder, segments, response.name), filename: response.name, ephemeral: false };
    }

    const { dir, path } = await resolveInside(this.routeRoot(folder), item.subfolder, name);
    const journal = this.journal as Journal;
    const finish = async (filename: string, extra: Partial<UploadedItem>): Promise<UploadedItem> => {
      const finalPath = join(dir, filename);
      if (!(await exists(finalPath))) {
        // /upload/mask answers normally even when it wrote nothing (original image not found).
        if (item.mask) throw new UploadError(describeItem(item), `ComfyUI wrote no mask: the original image ${JSON.stringify(item.mask.originalRef)} was not found.`);
        throw new UploadError(
          describeItem(item),
          `ComfyUI answered "${filename}" but ${finalPath} does not exist: the folders given to AssetStore (paths) are not the ones this server uses.`,
        );
      }
      // A plain upload that lands on one of our ephemeral files makes it permanent.
      if (!extra.ephemeral) await this.keep(finalPath);
      return { ...base, name: workflowName(folder, segments, filename), filename, path: finalPath, ephemeral: false, ...extra };
    };

    if (overwrite) {
      const existed = await exists(path);
      if (!ephemeral || !existed) {
        const id = newId();
        if (ephemeral) await journal.append({ op: 'intent', id, kind: 'ephemeral', path, pid: process.pid, at: new Date().toISOString() });
        const response = await this.settleOnFailure(ephemeral ? id : undefined, path, undefined, () => this.send(item, folder, data, name, subfolder, true));
        if (ephemeral) await this.completed(id, path, undefined);
        return finish(response.name, { ephemeral, ...(existed ? { replaced: true } : {}) });
      }
      // ComfyUI rewrites the file in place, so the backup must be a copy, made complete before use.
      const id = newId();
      const backup = join(dir, `.${name}.${id}${BACKUP_SUFFIX}`);
      const temp = join(dir, `.${name}.${id}${PARTIAL_SUFFIX}`);
      await journal.append({ op: 'intent', id, kind: 'ephemeral', path, backup, temp, pid: process.pid, at: new Date().toISOString() });
      await copyFile(path, temp, constants.COPYFILE_FICLONE);
      await rename(temp, backup);
      await fsyncDir(dir);
      const response = await this.settleOnFailure(id, path, backup, () => this.send(item, folder, data, name, subfolder, true));
      await this.completed(id, path, backup);
      return finish(response.name, { ephemeral: true, replaced: true });
    }

    const choice = await chooseName(dir, name, content);
    if (choice.duplicate || !ephemeral) {
      const response = await this.send(item, folder, data, name, subfolder, false);
      return finish(response.name, choice.taken.includes(response.name) ? { reused: true } : {});
    }
    const id = newId();
    const predicted = join(dir, choice.name);
    await journal.append({ op: 'intent', id, kind: 'ephemeral', path: predicted, pid: process.pid, at: new Date().toISOString() });
    const response = await this.settleOnFailure(id, predicted, undefined, () => this.send(item, folder, data, name, subfolder, false));
    if (response.name === choice.name) {
      await this.completed(id, predicted, undefined);
      return finish(response.name, { ephemeral: true });
    }
    // Someone changed the folder between our look and the server's: follow what the server did.
    await journal.append({ op: 'cancel', id });
    if (choice.taken.includes(response.name)) return finish(response.name, { reused: true });
    const actual = newId();
    const actualPath = join(dir, response.name);
    await journal.append({ op: 'intent', id: actual, kind: 'ephemeral', path: actualPath, pid: process.pid, at: new Date().toISOString() });
    await this.completed(actual, actualPath, undefined);
    return finish(response.name, { ephemeral: true });
  }

  /**
   * Runs an upload that has a journal intent; when it fails, the intent is settled at once so a
   * later removal cannot touch a file that is not ours: the backup goes back, or, when nothing was
   * written, the intent is cancelled. (Kept as it is if the server may have written the file.)
   */
  private async settleOnFailure<T>(id: string | undefined, path: string, backup: string | undefined, upload: () => Promise<T>): Promise<T> {
    try {
      return await upload();
    } catch (error) {
      if (id !== undefined) {
        if (backup && (await exists(backup))) {
          await rename(backup, path);
          await (this.journal as Journal).append({ op: 'cancel', id });
        } else if (!backup && !(await exists(path))) {
          await (this.journal as Journal).append({ op: 'cancel', id });
        }
      }
      throw error;
    }
  }

  /** Marks an ephemeral change done and remembers it, so a later plain upload can keep the file. */
  private async completed(id: string, path: string, backup: string | undefined): Promise<void> {
    await (this.journal as Journal).append({ op: 'done', id });
    const list = this.owned.get(path) ?? [];
    list.push({ id, backup });
    this.owned.set(path, list);
  }

  /**
   * A non-ephemeral upload ended on a file we journalled as ephemeral (same bytes reused, or an
   * overwrite): the user now wants it to stay, so its entries are cancelled and backups dropped.
   */
  private async keep(path: string): Promise<void> {
    const list = this.owned.get(path);
    if (!list) return;
    this.owned.delete(path);
    for (const { id, backup } of list) {
      await (this.journal as Journal).append({ op: 'cancel', id });
      if (backup) await rm(backup, { force: true });
    }
  }

  // ------------------------------------------------------------------ model files

  private async writeModel(item: UploadItem): Promise<UploadedItem> {
    const name = itemName(item);
    const key = mapLegacyKey(item.to);
    const root = resolve((this.folders as FolderMap).get(key)?.[0] as string);
    const segments = splitSubfolder(item.subfolder);
    const overwrite = item.overwrite === true;
    const ephemeral = item.ephemeral === true;
    const journal = this.journal as Journal;

    await mkdir(root, { recursive: true });
    const { dir, path } = await resolveInside(root, item.subfolder, name);
    await mkdir(dir, { recursive: true });
    await resolveInside(root, item.subfolder, name); // a folder swapped for a symlink while we created it

    const id = newId();
    const temp = join(dir, `.${name}.${id}${PARTIAL_SUFFIX}`);
    const result = (filename: string, extra: Partial<UploadedItem>): UploadedItem => ({
      name: [...segments, filename].join('/'),
      folder: key,
      subfolder: segments.join('/'),
      filename,
      path: join(dir, filename),
      ephemeral: false,
      ...extra,
    });

    // The temp file is journalled too, so a crash mid-copy leaves nothing behind after recover().
    await journal.append({ op: 'intent', id, kind: 'partial', path, temp, pid: process.pid, at: new Date().toISOString() });
    try {
      await writeTemp(item.source, temp);
    } catch (error) {
      await journal.append({ op: 'done', id });
      throw new UploadError(describeItem(item), `could not write ${temp}: ${(error as Error).message}`, error);
    }

    try {
      if (overwrite) {
        const existed = await exists(path);
        if (ephemeral) {
          const eid = newId();
          const backup = existed ? join(dir, `.${name}.${eid}${BACKUP_SUFFIX}`) : undefined;
          await journal.append({ op: 'intent', id: eid, kind: 'ephemeral', path, temp, ...(backup ? { backup } : {}), pid: process.pid, at: new Date().toISOString() });
          // rename replaces the directory entry, so a hard link keeps the old bytes safe for free.
          if (backup) await linkOrCopy(path, backup);
          await commit(temp, path, true, dir);
          await this.completed(eid, path, backup);
        } else {
          await commit(temp, path, true, dir);
          await this.keep(path);
        }
        await journal.append({ op: 'done', id });
        return result(name, { ephemeral, ...(existed ? { replaced: true } : {}) });
      }

      const content = await contentOfFile(temp);
      for (;;) {
        const choice = await chooseName(dir, name, content);
        if (choice.duplicate) {
          await rm(temp, { force: true });
          await journal.append({ op: 'done', id });
          if (!ephemeral) await this.keep(join(dir, choice.name));
          return result(choice.name, { reused: true });
        }
        const final = join(dir, choice.name);
        const eid = newId();
        if (ephemeral) await journal.append({ op: 'intent', id: eid, kind: 'ephemeral', path: final, temp, pid: process.pid, at: new Date().toISOString() });
        try {
          await commit(temp, final, false, dir);
        } catch (error) {
          if (ephemeral) await journal.append({ op: 'cancel', id: eid });
          if (error instanceof NameTakenError) continue; // taken since we looked: pick again
          throw error;
        }
        if (ephemeral) await this.completed(eid, final, undefined);
        await journal.append({ op: 'done', id });
        return result(choice.name, { ephemeral });
      }
    } catch (error) {
      await rm(temp, { force: true });
      if (error instanceof ComfyError) throw error;
      throw new UploadError(describeItem(item), (error as Error).message, error);
    }
  }
}

/** A hard link where the filesystem has them; else a complete copy put in place by rename. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    const partial = `${to}${PARTIAL_SUFFIX}`;
    await copyFile(from, partial, constants.COPYFILE_FICLONE);
    await rename(partial, to);
  }
}

async function hardLinked(path: string): Promise<boolean> {
  try {
    const info = await lstat(path);
    return info.isFile() && info.nlink > 1;
  } catch {
    return false;
  }
}
