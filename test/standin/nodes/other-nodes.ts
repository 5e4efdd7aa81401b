// Primitives, the comfy-connector test nodes and the pixel-space VAE path: cheap nodes whose
// progress and failure behaviour the tests rely on.
import { TINY_JPEG } from '../png.js';
import { NodeException, type NodeContext, type NodeImpl } from './types.js';

/** comfy.sd tiled encode/decode: three passes of tiles, one progress step per tile. */
async function tiledProgress(ctx: NodeContext, image: unknown, tile: number, overlap: number): Promise<void> {
  const f = (image as { frames?: Array<{ width: number; height: number }> } | null)?.frames?.[0];
  const w = f?.width ?? tile, h = f?.height ?? tile;
  if (tile < overlap * 4) overlap = Math.floor(tile / 4);
  const passes: Array<[number, number]> = [[tile, tile], [Math.floor(tile / 2), tile * 2], [tile * 2, Math.floor(tile / 2)]];
  const steps = passes.reduce((n, [tx, ty]) => n + Math.ceil(h / (ty - overlap)) * Math.ceil(w / (tx - overlap)), 0);
  for (let s = 1; s <= steps; s++) await ctx.progress(s, steps);
}

const passValue: NodeImpl = { async run(i) { return { result: [i.value] }; } };

export const otherNodes: Record<string, NodeImpl> = {
  PrimitiveInt: passValue,
  PrimitiveFloat: passValue,
  PrimitiveString: passValue,
  PrimitiveStringMultiline: passValue,
  PrimitiveBoolean: passValue,

  ComfyConnectorSlowCounter: {
    alwaysRerun: true,
    async run(i, ctx) {
      const steps = Number(i.steps), delay = Number(i.delay_ms);
      for (let s = 0; s < steps; s++) {
        ctx.checkInterrupt();
        await ctx.sleep(delay);
        // send_preview: a small JPEG per step, like a sampler's latent preview.
        await ctx.progress(s + 1, steps, i.send_preview === true ? { format: 'JPEG', data: TINY_JPEG } : undefined);
      }
      const image = i.image ?? { kind: 'IMAGE', frames: [{ width: 8, height: 8, channels: 3, data: new Uint8Array(8 * 8 * 3) }] };
      return { result: [image, steps], ui: { count: [steps] } };
    },
  },
  ComfyConnectorRaise: {
    async run(i) {
      throw new NodeException('RuntimeError', String(i.message));
    },
  },

  VAELoader: { async run(i) { return { result: [{ kind: 'VAE', name: i.vae_name }] }; } },
  // pixel_space tiled passes: progress per tile (throttled like the real progress hook), no previews.
  VAEEncodeTiled: {
    async run(i, ctx) {
      await tiledProgress(ctx, i.pixels, Number(i.tile_size), Number(i.overlap));
      return { result: [{ kind: 'LATENT', samples: i.pixels }] };
    },
  },
  VAEDecodeTiled: {
    async run(i, ctx) {
      const latent = i.samples as { samples?: unknown } | null;
      await tiledProgress(ctx, latent?.samples, Number(i.tile_size), Number(i.overlap));
      if (!latent?.samples) throw new NodeException('TypeError', "'NoneType' object is not subscriptable");
      return { result: [latent.samples] };
    },
  },
};

/** Raised by checkInterrupt/progress when /interrupt set the flag. */
export class InterruptProcessingException extends NodeException {
  constructor() { super('comfy.model_management.InterruptProcessingException', ''); }
}
