// The model-free image nodes, executed for real so files appear where ComfyUI would put them.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { decodePng, encodePng, type RawImage } from '../png.js';
import { isInside } from '../paths.js';
import { pyJson } from '../pyjson.js';
import { NodeException, type ImageBatch, type NodeContext, type NodeImpl } from './types.js';

function asImage(v: unknown, input: string): ImageBatch {
  if (v && typeof v === 'object' && (v as ImageBatch).kind === 'IMAGE') return v as ImageBatch;
  throw new NodeException('TypeError', `'${input}' is not an image (got ${v === null ? 'None' : typeof v})`);
}

/** folder_paths.annotated_filepath: "name [input]" style suffixes. */
export function annotated(name: string): { name: string; type?: 'input' | 'output' | 'temp' } {
  const m = /^(.*) \[(input|output|temp)\]$/.exec(name);
  return m ? { name: m[1]!, type: m[2] as 'input' | 'output' | 'temp' } : { name };
}

/** folder_paths.get_save_image_path: next free `<prefix>_NNNNN_` counter in the target folder. */
function saveImagePath(prefix: string, outputDir: string): { folder: string; filename: string; counter: number; subfolder: string } {
  const subfolder = dirname(prefix) === '.' ? '' : dirname(prefix);
  const filename = basename(prefix);
  const folder = join(outputDir, subfolder);
  if (!isInside(outputDir, resolve(folder))) {
    throw new NodeException('Exception', `**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: ${resolve(folder)}\n         output_dir: ${outputDir}`);
  }
  let counter = 1;
  try {
    for (const f of readdirSync(folder)) {
      if (!f.startsWith(`${filename}_`)) continue;
      const m = /^(\d+)_/.exec(f.slice(filename.length + 1));
      if (m) counter = Math.max(counter, Number(m[1]) + 1);
    }
  } catch {
    mkdirSync(folder, { recursive: true });
  }
  return { folder, filename, counter, subfolder: relative(outputDir, folder) };
}

function saveImages(images: ImageBatch, prefix: string, dir: string, type: 'output' | 'temp', ctx: NodeContext) {
  const { folder, filename, subfolder, counter: first } = saveImagePath(prefix, dir);
  let counter = first;
  const results: Array<{ filename: string; subfolder: string; type: string }> = [];
  const texts: Record<string, string> = {};
  if (!ctx.disableMetadata) {
    texts.prompt = pyJson(ctx.prompt);
    for (const [k, v] of Object.entries(ctx.extraPnginfo ?? {})) texts[k] = pyJson(v);
  }
  images.frames.forEach((frame, batchNumber) => {
    const name = filename.replace('%batch_num%', String(batchNumber));
    const file = `${name}_${String(counter).padStart(5, '0')}_.png`;
    writeFileSync(join(folder, file), encodePng(frame, texts));
    results.push({ filename: file, subfolder, type });
    counter++;
  });
  return results;
}

const randomLetters = (n: number) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz'[Math.floor(Math.random() * 26)]).join('');

export const imageNodes: Record<string, NodeImpl> = {
  EmptyImage: {
    async run(i) {
      const width = Number(i.width), height = Number(i.height), batch = Number(i.batch_size), color = Number(i.color ?? 0);
      const rgb = [(color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff];
      const frames: RawImage[] = [];
      for (let b = 0; b < batch; b++) {
        const data = new Uint8Array(width * height * 3);
        for (let p = 0; p < width * height; p++) data.set(rgb, p * 3);
        frames.push({ width, height, channels: 3, data });
      }
      return { result: [{ kind: 'IMAGE', frames } satisfies ImageBatch] };
    },
  },
  LoadImage: {
    validate: {
      inputs: ['image'],
      check(i, paths) {
        const a = annotated(String(i.image));
        const dir = a.type === 'output' ? paths.output : a.type === 'temp' ? paths.temp : paths.input;
        return existsSync(join(dir, a.name)) ? true : `Invalid image file: ${String(i.image)}`;
      },
    },
    async run(i, ctx) {
      const a = annotated(String(i.image));
      const dir = a.type === 'output' ? ctx.paths.output : a.type === 'temp' ? ctx.paths.temp : ctx.paths.input;
      let decoded;
      try {
        decoded = decodePng(readFileSync(join(dir, a.name)));
      } catch (e) {
        throw new NodeException('PIL.UnidentifiedImageError', `cannot identify image file '${join(dir, a.name)}' (${(e as Error).message})`);
      }
      const rgb = new Uint8Array(decoded.width * decoded.height * 3);
      for (let p = 0; p < decoded.width * decoded.height; p++) rgb.set(decoded.data.subarray(p * decoded.channels, p * decoded.channels + 3), p * 3);
      return { result: [{ kind: 'IMAGE', frames: [{ width: decoded.width, height: decoded.height, channels: 3, data: rgb }] } satisfies ImageBatch, null] };
    },
  },
  ImageInvert: {
    async run(i) {
      const img = asImage(i.image, 'image');
      return { result: [{ kind: 'IMAGE', frames: img.frames.map((f) => ({ ...f, data: f.data.map((v) => 255 - v) })) } satisfies ImageBatch] };
    },
  },
  SaveImage: {
    async run(i, ctx) {
      const images = saveImages(asImage(i.images, 'images'), String(i.filename_prefix ?? 'ComfyUI'), ctx.paths.output, 'output', ctx);
      return { result: [], ui: { images } };
    },
  },
  PreviewImage: {
    async run(i, ctx) {
      const images = saveImages(asImage(i.images, 'images'), `ComfyUI_temp_${randomLetters(5)}`, ctx.paths.temp, 'temp', ctx);
      return { result: [], ui: { images } };
    },
  },
  SaveImageWebsocket: {
    alwaysRerun: true,
    async run(i, ctx) {
      const img = asImage(i.images, 'images');
      for (let step = 0; step < img.frames.length; step++) await ctx.progress(step, img.frames.length, { format: 'PNG', data: encodePng(img.frames[step]!) });
      return { result: [] };
    },
  },
};
