import type { ServerPaths } from '../server/options.js';
import type { Readable } from 'node:stream';

/** Where an image or mask goes through ComfyUI's upload routes. */
export type RouteFolder = 'input' | 'output' | 'temp';

/** A reference to an image already on the server, as /upload/mask's `original_ref` wants it. */
export interface ImageRef {
  filename: string;
  subfolder?: string;
  type?: RouteFolder;
}

/** One file to put into one of ComfyUI's folders. */
export interface UploadItem {
  /**
   * A local path, an http(s):// or s3:// URL (fetched under the fetch policy), the bytes
   * themselves, or a stream of them.
   */
  source: string | Buffer | Readable;
  /** For a URL source: the expected sha256 (hex); the download is verified against it. */
  sha256?: string;
  /**
   * 'input' | 'output' | 'temp' (uploaded through ComfyUI's routes) or a model folder key
   * ('checkpoints', 'loras', 'vae', ... and keys that extra_model_paths files add; 'unet' and
   * 'clip' are aliases of 'diffusion_models' and 'text_encoders'), written to disk.
   */
  to: string;
  /** The file name; defaults to the basename of a path source (required for Buffer and stream sources). */
  name?: string;
  /** A relative folder below the destination, '/'-separated. */
  subfolder?: string;
  /** Replace a file of the same name instead of choosing "name (1).ext". */
  overwrite?: boolean;
  /** Delete the file again at removeEphemeral() (killApi); a file it replaced is restored. */
  ephemeral?: boolean;
  /** Upload as a mask (its alpha goes onto the referenced image); input/output/temp only. */
  mask?: { originalRef: ImageRef };
}

/** What one upload produced. */
export interface UploadedItem {
  /**
   * What a workflow uses: "sub/cat.png" for LoadImage with a subfolder, or the model's path
   * relative to its folder, as the loader lists it.
   */
  name: string;
  /** The destination key as given (aliases resolved: 'unet' becomes 'diffusion_models'). */
  folder: string;
  /** The subfolder as given ('' when none). */
  subfolder: string;
  /** The file name alone, after collision renaming. */
  filename: string;
  /** Local absolute path, when the folders are known (managed server). */
  path?: string;
  /** True when removeEphemeral() will delete (or restore) this file. */
  ephemeral: boolean;
  /** True when an existing file of the same name was overwritten. */
  replaced?: boolean;
  /**
   * True when an identical file already had that name, so nothing was written (ComfyUI's rule).
   * Such a file is never deleted by removeEphemeral(): it was not ours.
   */
  reused?: boolean;
  /** For a URL source: the URL without credentials. */
  url?: string;
  /** For a URL source: the sha256 of the bytes fetched (verified when the item gave one). */
  sha256?: string;
  size?: number;
  /** For a model by URL: true when the model cache already held the file. */
  cached?: boolean;
}

/** What /upload/image and /upload/mask answer. */
export interface UploadResponse {
  name: string;
  subfolder: string;
  type: string;
}

/** The part of ComfyClient the asset store needs (the facade passes the real client). */
export interface UploadClient {
  uploadImage(options: {
    data: Buffer | Blob;
    filename: string;
    subfolder?: string;
    type?: RouteFolder;
    overwrite?: boolean;
  }): Promise<UploadResponse>;
  uploadMask(options: {
    data: Buffer | Blob;
    filename: string;
    subfolder?: string;
    type?: RouteFolder;
    overwrite?: boolean;
    originalRef: ImageRef;
  }): Promise<UploadResponse>;
  /** GET /models: the folder keys the server knows (used to list them in UnknownFolderError). */
  models?(): Promise<string[]>;
}

/**
 * The folders of a managed ComfyUI: src/server's ServerPaths, where the instance folder may be
 * unknown (a store recovering another process's journal) and a --models-directory may be given.
 */
export type AssetServerPaths = Omit<ServerPaths, 'instanceDirectory'> & {
  instanceDirectory?: string;
  /** --models-directory, when the server was given one (defaults to <baseDirectory>/models). */
  modelsDirectory?: string;
};

export interface AssetStoreOptions {
  client: UploadClient;
  /** Absent for a remote server: then only route uploads (input/output/temp, not ephemeral) work. */
  paths?: AssetServerPaths | undefined;
  /**
   * The FOLDER holding the ephemeral journals (one file per store instance, so several processes
   * never share a file); default <baseDirectory>/user/comfy-connector-journal/. Stores that must
   * recover each other's leftovers must use the same folder.
   */
  journalPath?: string | undefined;
  /** Called after a model file was written, so the facade can refresh its node definitions. */
  onModelsChanged?: (() => void | Promise<void>) | undefined;
  /** Receives problems that do not fail the call (journal entries ignored during recovery...). */
  onWarning?: ((message: string) => void) | undefined;
}

/** What recover() and removeEphemeral() did. */
export interface CleanupReport {
  /** Ephemeral files deleted. */
  removed: string[];
  /** Files put back from their backups. */
  restored: string[];
  /** Journal entries that were not acted on, with why (outside ComfyUI's folders, malformed...). */
  ignored: Array<{ entry: string; reason: string }>;
}
