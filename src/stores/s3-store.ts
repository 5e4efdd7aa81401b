import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand, PutObjectTaggingCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ComfyError, StoreAccessDeniedError, StoreError, StoreNotFoundError } from '../errors.js';
import { checkKey, normalizePrefix } from './keys.js';
import { classifyS3Error, makeS3Client, s3Endpoint, s3ErrorText, s3Region, type S3Connection } from './s3-client.js';
import type { OutputStore, PutOptions, StoredObject, StoreDescriptor } from './types.js';

export interface S3StoreOptions extends S3Connection {
  bucket: string;
  /** Every key is written below this prefix ('runs' → runs/<key>). */
  prefix?: string | undefined;
  /** Multipart part size in bytes (default 8 MiB, S3's minimum is 5 MiB). */
  partSize?: number | undefined;
  /** Parts in flight at once (default 4); memory use is about partSize × this. */
  concurrency?: number | undefined;
  /** An S3Client to use instead of building one from the connection fields. */
  client?: S3Client | undefined;
}

const MIN_PART = 5 * 1024 * 1024;
const SHA_KEY = 'sha256';

/**
 * An output store in an S3-compatible bucket. Bodies are streamed: one PUT when the body fits in a
 * part, else a multipart upload with a bounded number of parts in memory (aborted on failure, so no
 * half object appears). The sha256 travels as object metadata (single PUT) or a tag (multipart, where
 * it is known only at the end).
 */
export class S3Store implements OutputStore {
  readonly kind = 's3';
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  private readonly partSize: number;
  private readonly concurrency: number;
  private readonly endpoint: string | undefined;
  private readonly region: string;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix);
    this.client = options.client ?? makeS3Client(options);
    this.partSize = Math.max(MIN_PART, options.partSize ?? 8 * 1024 * 1024);
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.endpoint = s3Endpoint(options);
    this.region = s3Region(options);
  }

  describe(): StoreDescriptor {
    const d: StoreDescriptor = { kind: 's3', bucket: this.bucket, region: this.region };
    if (this.prefix) d.prefix = this.prefix;
    if (this.endpoint) d.endpoint = this.endpoint;
    return d;
  }

  private get label(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
  }

  private objectKey(key: string): string {
    checkKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions): Promise<StoredObject> {
    const Key = this.objectKey(key);
    const hash = createHash('sha256');
    let size = 0;
    const parts = partsOf(Buffer.isBuffer(body) ? Readable.from([body]) : body, this.partSize);
    try {
      const first = await parts.next();
      const firstPart = first.done ? Buffer.alloc(0) : first.value;
      hash.update(firstPart);
      size += firstPart.length;
      const second = first.done ? first : await parts.next();
      if (second.done) {
        const sha256 = hash.digest('hex');
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: firstPart, ContentType: options.mime, ContentLength: firstPart.length, Metadata: { [SHA_KEY]: sha256 } }));
        return { key, size, sha256, mime: options.mime, url: `s3://${this.bucket}/${Key}` };
      }
      const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: options.mime }));
      const UploadId = created.UploadId!;
      try {
        const done: Array<{ PartNumber: number; ETag: string }> = [];
        const inFlight = new Set<Promise<void>>();
        let failure: unknown;
        const send = (PartNumber: number, Body: Buffer): void => {
          const p = this.client
            .send(new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber, Body, ContentLength: Body.length }))
            .then((r) => { done.push({ PartNumber, ETag: r.ETag! }); })
            .catch((e: unknown) => { failure ??= e; })
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        };
        let n = 1;
        send(n++, firstPart);
        let next: IteratorResult<Buffer> = second;
        while (!next.done) {
          hash.update(next.value);
          size += next.value.length;
          send(n++, next.value);
          while (inFlight.size >= this.concurrency) await Promise.race(inFlight);
          if (failure) throw failure;
          next = await parts.next();
        }
        await Promise.all(inFlight);
        if (failure) throw failure;
        done.sort((a, b) => a.PartNumber - b.PartNumber);
        await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: done } }));
      } catch (error) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => undefined);
        throw error;
      }
      const sha256 = hash.digest('hex');
      await this.client
        .send(new PutObjectTaggingCommand({ Bucket: this.bucket, Key, Tagging: { TagSet: [{ Key: SHA_KEY, Value: sha256 }] } }))
        .catch(() => undefined); // head() computes it when the tag is missing
      return { key, size, sha256, mime: options.mime, url: `s3://${this.bucket}/${Key}` };
    } catch (error) {
      await parts.return(undefined).catch(() => undefined);
      throw this.wrap(key, error);
    }
  }

  async get(key: string): Promise<Readable> {
    const Key = this.objectKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return out.Body as Readable;
    } catch (error) {
      throw this.wrap(key, error);
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const Key = this.objectKey(key);
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      let sha256 = h.Metadata?.[SHA_KEY];
      if (!sha256) {
        const tags = await this.client.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key })).catch(() => undefined);
        sha256 = tags?.TagSet?.find((t) => t.Key === SHA_KEY)?.Value;
      }
      if (!sha256) {
        const hash = createHash('sha256');
        for await (const chunk of await this.get(key)) hash.update(chunk as Buffer);
        sha256 = hash.digest('hex');
      }
      return { key, size: h.ContentLength ?? 0, sha256, mime: h.ContentType ?? 'application/octet-stream', url: `s3://${this.bucket}/${Key}` };
    } catch (error) {
      if (classifyS3Error(error) === 'not-found') return undefined;
      throw this.wrap(key, error);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (classifyS3Error(error) === 'not-found') return;
      throw this.wrap(key, error);
    }
  }

  /** A presigned GET URL (default one hour), for a caller without credentials. */
  async publicUrl(key: string, options: { expiresInSeconds?: number } = {}): Promise<string> {
    const Key = this.objectKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key }), { expiresIn: options.expiresInSeconds ?? 3600 });
  }

  private wrap(key: string, error: unknown): Error {
    if (error instanceof ComfyError) return error;
    switch (classifyS3Error(error)) {
      case 'denied':
        return new StoreAccessDeniedError(key, this.label, s3ErrorText(error));
      case 'not-found':
        return new StoreNotFoundError(key, this.label);
      default:
        return new StoreError(key, this.label, s3ErrorText(error), error);
    }
  }
}

/** Cuts a stream into Buffers of exactly `size` bytes (the last may be shorter), holding one at a time. */
async function* partsOf(stream: Readable, size: number): AsyncGenerator<Buffer, void, undefined> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const raw of stream) {
    let chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as string);
    while (length + chunk.length >= size) {
      const take = size - length;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending, size);
      pending = [];
      length = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length) {
      pending.push(chunk);
      length += chunk.length;
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}
