import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { SourceAccessDeniedError, SourceHttpError, SourceRefusedError, SourceUnreachableError } from '../errors.js';
import { classifyS3Error, makeS3Client, s3ErrorText } from '../stores/s3-client.js';
import type { Opener, Opened } from './opener.js';
import { redactUrl } from './redact.js';
import { networkFailure, TransientError } from './transient.js';
import type { FetchOptions } from './types.js';

/** s3://BUCKET/KEY → bucket and key. */
export function parseS3Url(url: URL): { bucket: string; key: string } {
  const bucket = url.hostname;
  const key = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!bucket || !key) throw new SourceRefusedError(redactUrl(url), 'an s3 URL must be s3://BUCKET/KEY', 'Name the bucket and the object key, e.g. s3://models/loras/style.safetensors.');
  return { bucket, key };
}

/**
 * Opens s3://BUCKET/KEY with a ranged GetObject (resume), credentials from `credentials["s3://BUCKET"]`,
 * else `options.s3`, else the AWS_* environment. The endpoint is the operator's, never the caller's.
 */
export function s3Opener(url: URL, options: FetchOptions): { open: Opener; close(): void } {
  const { bucket, key } = parseS3Url(url);
  const shown = redactUrl(url);
  const given = options.credentials?.[`s3://${bucket}`];
  const keys = given && 's3' in given ? given.s3 : options.s3?.credentials;
  const client: S3Client = makeS3Client({ ...options.s3, ...(keys ? { credentials: keys } : {}) });
  const open: Opener = async ({ offset, validator, signal }): Promise<Opened> => {
    try {
      const out = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ...(offset > 0 ? { Range: `bytes=${offset}-`, ...(validator ? { IfMatch: validator } : {}) } : {}) }),
        signal ? { abortSignal: signal } : {},
      );
      const range = /\/(\d+)$/.exec(out.ContentRange ?? '');
      const partial = offset > 0 && out.ContentRange !== undefined;
      return {
        stream: out.Body as Readable,
        partial,
        total: range ? Number(range[1]) : out.ContentLength !== undefined ? out.ContentLength + (partial ? offset : 0) : undefined,
        mime: out.ContentType,
        fileName: key.split('/').pop(),
        validator: out.ETag,
      };
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 416) throw new TransientError(new SourceHttpError(shown, status), true);
      switch (classifyS3Error(error)) {
        case 'denied':
          throw new SourceAccessDeniedError(shown, s3ErrorText(error));
        case 'not-found':
          throw new SourceHttpError(shown, 404, 'Check the bucket and key: no such object.');
      }
      if (status !== undefined && status >= 500) throw new TransientError(new SourceHttpError(shown, status));
      if (status === undefined) {
        const failure = networkFailure(error, shown);
        if (failure instanceof TransientError) throw failure;
        throw new SourceUnreachableError(shown, s3ErrorText(error), error);
      }
      throw new SourceHttpError(shown, status, s3ErrorText(error));
    }
  };
  return { open, close: () => client.destroy() };
}
