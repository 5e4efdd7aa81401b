import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';

/** Where an S3-compatible server is and who we are there. Credentials are never logged or described. */
export interface S3Connection {
  /** e.g. http://127.0.0.1:8333 for SeaweedFS/MinIO; default AWS (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL). */
  endpoint?: string | undefined;
  /** Default AWS_REGION, else us-east-1. */
  region?: string | undefined;
  /** Default: the SDK's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** Path-style addressing (bucket in the path); default true when an endpoint is given. */
  forcePathStyle?: boolean | undefined;
}

export function s3Endpoint(connection: S3Connection): string | undefined {
  return connection.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
}

export function s3Region(connection: S3Connection): string {
  return connection.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

export function makeS3Client(connection: S3Connection): S3Client {
  const endpoint = s3Endpoint(connection);
  return new S3Client({
    region: s3Region(connection),
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: connection.forcePathStyle ?? endpoint !== undefined,
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
    // Parts are sent as Buffers we already hashed; extra CRC trailers only cost time (and not every
    // S3-compatible server accepts aws-chunked bodies).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export type S3Failure = 'denied' | 'not-found' | 'other';

/** Sorts an SDK error: denial (wrong or insufficient credentials), absence, or anything else. */
export function classifyS3Error(error: unknown): S3Failure {
  const name = (error as { name?: string }).name ?? '';
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden', 'CredentialsProviderError', 'ExpiredToken'].includes(name) || status === 403 || status === 401) return 'denied';
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return 'not-found';
  return 'other';
}

export function s3ErrorText(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return [e.name, e.message].filter(Boolean).join(': ') || String(error);
}
