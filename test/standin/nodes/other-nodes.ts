// Primitives, the comfy-connector test nodes and the pixel-space VAE path: cheap nodes whose
// progress and failure behaviour the tests rely on.
import { NodeException, type NodeImpl } from './types.js';

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
        await ctx.progress(s + 1, steps);
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
  // Real pixel_space tiled passes report 5 progress steps for a small image and send no previews.
  VAEEncodeTiled: {
    async run(i, ctx) {
      for (let s = 1; s <= 5; s += 4) await ctx.progress(s, 5);
      return { result: [{ kind: 'LATENT', samples: i.pixels }] };
    },
  },
  VAEDecodeTiled: {
    async run(i, ctx) {
      for (let s = 1; s <= 5; s += 4) await ctx.progress(s, 5);
      const latent = i.samples as { samples?: unknown } | null;
      if (!latent?.samples) throw new NodeException('TypeError', "'NoneType' object is not subscriptable");
      return { result: [latent.samples] };
    },
  },
};

/** Raised by checkInterrupt/progress when /interrupt set the flag. */
export class InterruptProcessingException extends NodeException {
  constructor() { super('comfy.model_management.InterruptProcessingException', ''); }
}
