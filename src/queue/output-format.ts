/**
 * Converting a job's image outputs to the format it asked for (png, jpeg, webp), once, in the worker,
 * before the bytes go to the store: the stored copy, the inline base64, size, sha256, MIME type and
 * file name all describe the converted file, and no read converts again. sharp (libvips) encodes on
 * libuv's thread pool, so the worker's event loop (BullMQ's lock renewals) keeps turning meanwhile.
 * sharp is loaded on first use only: a job that asks for no conversion never loads the native library.
 */
import { ComfyError } from '../errors.js';
import { registerFailureClass } from '../error-policy.js';

export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp'] as const;
export type OutputFormatName = (typeof OUTPUT_FORMATS)[number];

/** What a job asks its image outputs to become; `quality` (1–100) applies to jpeg and webp. */
export interface OutputFormat {
  format: OutputFormatName;
  quality?: number;
}

const TARGET: Record<OutputFormatName, { mime: string; ext: string }> = {
  png: { mime: 'image/png', ext: '.png' },
  jpeg: { mime: 'image/jpeg', ext: '.jpg' },
  webp: { mime: 'image/webp', ext: '.webp' },
};

/** An image output could not be converted (not a decodable image, or sharp missing): not retried. */
export class OutputConvertError extends ComfyError {
  constructor(readonly filename: string, readonly format: string, detail: string) {
    super('COMFY_OUTPUT_CONVERT', `Could not convert output ${filename} to ${format}: ${detail}`, {
      hint: 'Drop outputs.format (or convert_output) to get the file as the workflow saved it; sharp must be installed where the worker runs.',
    });
  }
}
registerFailureClass('COMFY_OUTPUT_CONVERT', 'invalid');

/** Throws a message naming the field when `value` is not an OutputFormat. */
export function checkOutputFormat(value: unknown): OutputFormat {
  if (!value || typeof value !== 'object') throw new Error('must be { format, quality? }');
  const { format, quality } = value as Record<string, unknown>;
  if (typeof format !== 'string' || !(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    throw new Error(`format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  }
  if (quality !== undefined && (typeof quality !== 'number' || !Number.isInteger(quality) || quality < 1 || quality > 100)) {
    throw new Error('quality must be an integer from 1 to 100');
  }
  return { format: format as OutputFormatName, ...(quality !== undefined ? { quality: quality as number } : {}) };
}

type SharpModule = typeof import('sharp');
let sharpModule: Promise<SharpModule['default']> | undefined;
const loadSharp = () => (sharpModule ??= import('sharp').then((m) => m.default));

/** The file name with the target format's extension (`svc_00001_.png` → `svc_00001_.webp`). */
export function renamedFor(filename: string, format: OutputFormatName): string {
  const dot = filename.lastIndexOf('.');
  const stem = dot > 0 ? filename.slice(0, dot) : filename;
  return `${stem}${TARGET[format].ext}`;
}

/**
 * The image in the requested format, with its MIME type and file name. Bytes already in that format
 * with no quality asked for pass through untouched (a png asked to be png is not re-encoded).
 */
export async function convertImage(data: Buffer, filename: string, mime: string, want: OutputFormat): Promise<{ data: Buffer; mime: string; filename: string }> {
  const target = TARGET[want.format];
  if (mime === target.mime && want.quality === undefined) return { data, mime, filename };
  try {
    const sharp = await loadSharp();
    const image = sharp(data);
    const quality = want.quality !== undefined ? { quality: want.quality } : {};
    const encoded = want.format === 'png' ? image.png() : want.format === 'jpeg' ? image.jpeg(quality) : image.webp(quality);
    return { data: await encoded.toBuffer(), mime: target.mime, filename: renamedFor(filename, want.format) };
  } catch (error) {
    throw new OutputConvertError(filename, want.format, (error as Error).message);
  }
}
