/**
 * Small hand-made node definitions (shaped like ComfyUI 0.33's /object_info) and a builder for
 * UI workflows, so each conversion rule can be tested on a graph of a few nodes.
 */
import type { ObjectInfo, UiNode, UiWorkflow } from '../../src/workflow/index.js';

export const DEFS: ObjectInfo = {
  CheckpointLoaderSimple: {
    input: { required: { ckpt_name: [['a.safetensors', 'b.safetensors'], {}] } },
    input_order: { required: ['ckpt_name'] },
    output: ['MODEL', 'CLIP', 'VAE'], name: 'CheckpointLoaderSimple', display_name: 'Load Checkpoint',
  },
  CLIPTextEncode: {
    input: { required: { text: ['STRING', { multiline: true, dynamicPrompts: true }], clip: ['CLIP', {}] } },
    input_order: { required: ['text', 'clip'] },
    output: ['CONDITIONING'], name: 'CLIPTextEncode', display_name: 'CLIP Text Encode (Prompt)',
  },
  KSampler: {
    input: {
      required: {
        model: ['MODEL', {}],
        seed: ['INT', { default: 0, min: 0, max: 18446744073709551615, control_after_generate: true }],
        steps: ['INT', { default: 20 }],
        cfg: ['FLOAT', { default: 8 }],
        sampler_name: [['euler', 'dpmpp_2m'], {}],
        scheduler: [['normal', 'karras'], {}],
        positive: ['CONDITIONING', {}],
        negative: ['CONDITIONING', {}],
        latent_image: ['LATENT', {}],
        denoise: ['FLOAT', { default: 1 }],
      },
    },
    input_order: { required: ['model', 'seed', 'steps', 'cfg', 'sampler_name', 'scheduler', 'positive', 'negative', 'latent_image', 'denoise'] },
    output: ['LATENT'], name: 'KSampler', display_name: 'KSampler',
  },
  EmptyLatentImage: {
    input: { required: { width: ['INT', { default: 512 }], height: ['INT', { default: 512 }], batch_size: ['INT', { default: 1 }] } },
    input_order: { required: ['width', 'height', 'batch_size'] },
    output: ['LATENT'], name: 'EmptyLatentImage', display_name: 'Empty Latent Image',
  },
  VAEDecode: {
    input: { required: { samples: ['LATENT', {}], vae: ['VAE', {}] } },
    input_order: { required: ['samples', 'vae'] },
    output: ['IMAGE'], name: 'VAEDecode', display_name: 'VAE Decode',
  },
  SaveImage: {
    input: { required: { images: ['IMAGE', {}], filename_prefix: ['STRING', { default: 'ComfyUI' }] } },
    input_order: { required: ['images', 'filename_prefix'] },
    output: [], name: 'SaveImage', display_name: 'Save Image', output_node: true,
  },
  LoadImage: {
    input: { required: { image: [['example.png', 'cat.png'], { image_upload: true }] } },
    input_order: { required: ['image'] },
    output: ['IMAGE', 'MASK'], name: 'LoadImage', display_name: 'Load Image',
  },
  ImageInvert: {
    input: { required: { image: ['IMAGE', {}] } },
    output: ['IMAGE'], name: 'ImageInvert', display_name: 'Invert Image',
  },
  ConditioningCombine: {
    input: { required: { conditioning_1: ['CONDITIONING', {}], conditioning_2: ['CONDITIONING', {}] } },
    output: ['CONDITIONING'], name: 'ConditioningCombine', display_name: 'Conditioning (Combine)',
  },
  // A V3 node: "COMBO" with options, a combo with control_after_generate, a forceInput string,
  // an INT whose control is explicitly off although it is called seed.
  V3Node: {
    input: {
      required: {
        mode: ['COMBO', { options: ['fast', 'slow'], default: 'slow' }],
        pick: ['COMBO', { options: ['x', 'y', 'z'], control_after_generate: true }],
        seed: ['INT', { default: 1, control_after_generate: false }],
      },
      optional: { note: ['STRING', { forceInput: true }], strength: ['FLOAT', { default: 0.5 }] },
    },
    input_order: { required: ['mode', 'pick', 'seed'], optional: ['note', 'strength'] },
    output: ['STRING'], name: 'V3Node', display_name: 'V3 Node',
  },
  // Shaped like a pre-1.16 node that had a forceInput string before its widgets.
  LegacyNode: {
    input: {
      required: {
        caption: ['STRING', { forceInput: true }],
        seed: ['INT', { default: 0, control_after_generate: true }],
        steps: ['INT', { default: 10 }],
      },
    },
    output: ['STRING'], name: 'LegacyNode',
  },
  CustomCombo: {
    input: { required: { choice: ['COMBO', { multiselect: false, options: [] }] } },
    input_order: { required: ['choice'] },
    output: ['STRING', 'INT'], name: 'CustomCombo', display_name: 'Custom Combo',
  },
  ImageCompare: {
    input: { required: { compare_view: ['IMAGECOMPARE', { socketless: true }] }, optional: { image_a: ['IMAGE', {}], image_b: ['IMAGE', {}] } },
    input_order: { required: ['compare_view'], optional: ['image_a', 'image_b'] },
    output: [], name: 'ImageCompare', display_name: 'Image Compare', output_node: true,
  },
  ImageCropV2: {
    input: { required: { image: ['IMAGE', {}], crop_region: ['BOUNDING_BOX', { default: { x: 0, y: 0, width: 512, height: 512 }, socketless: true, component: 'ImageCrop' }] } },
    input_order: { required: ['image', 'crop_region'] },
    output: ['IMAGE'], name: 'ImageCropV2', display_name: 'Image Crop',
  },
  // The frontend's en locale titles this class differently from the server.
  TopazImageEnhance: {
    input: { required: { image: ['IMAGE', {}] } }, output: ['IMAGE'], name: 'TopazImageEnhance', display_name: 'Topaz Image Enhance (Legacy)',
  },
  ListNode: {
    input: { required: { items: ['COMBO', { options: ['a', 'b', 'c'], multi_select: true }] } },
    output: ['STRING'], name: 'ListNode',
  },
  Resize: {
    input: {
      required: {
        image: ['IMAGE', {}],
        resize_type: ['COMFY_DYNAMICCOMBO_V3', {
          options: [
            { key: 'scale dimensions', inputs: { required: { width: ['INT', { default: 512 }], height: ['INT', { default: 512 }] } } },
            { key: 'scale by multiplier', inputs: { required: { multiplier: ['FLOAT', { default: 1 }] } } },
          ],
        }],
        scale_method: [['nearest', 'bilinear'], {}],
      },
    },
    input_order: { required: ['image', 'resize_type', 'scale_method'] },
    output: ['IMAGE'], name: 'Resize', display_name: 'Resize',
  },
};

let nextLink = 1000;

/** A tiny workflow builder: nodes by id, links by (origin, slot) → (target, input name). */
export class WorkflowBuilder {
  nodes: UiNode[] = [];
  links: Array<[number, number, number, number, number, string]> = [];
  extra: Record<string, unknown> = {};
  definitions: { subgraphs: unknown[] } | undefined;

  node(id: number, type: string, widgets_values?: unknown[] | Record<string, unknown>, more: Partial<UiNode> = {}): this {
    const node: UiNode = { id, type, mode: 0, inputs: [], outputs: [], properties: {}, ...more };
    if (widgets_values !== undefined) node.widgets_values = widgets_values;
    this.nodes.push(node);
    return this;
  }

  /** Links origin output `slot` to the input called `input` of `target` (added to its inputs if absent). */
  link(origin: number, slot: number, target: number, input: string, type = '*', widget = false): this {
    const id = nextLink++;
    const from = this.nodes.find((n) => n.id === origin);
    const to = this.nodes.find((n) => n.id === target);
    if (!from || !to) throw new Error(`no node ${origin} or ${target}`);
    from.outputs ??= [];
    while (from.outputs.length <= slot) from.outputs.push({ name: `out${from.outputs.length}`, type, links: [] });
    (from.outputs[slot]!.links ??= []).push(id);
    to.inputs ??= [];
    let index = to.inputs.findIndex((i) => i.name === input);
    if (index === -1) {
      to.inputs.push({ name: input, type, link: null, ...(widget ? { widget: { name: input } } : {}) });
      index = to.inputs.length - 1;
    }
    to.inputs[index]!.link = id;
    this.links.push([id, origin, slot, target, index, type]);
    return this;
  }

  build(): UiWorkflow {
    const wf: UiWorkflow = { last_node_id: Math.max(0, ...this.nodes.map((n) => Number(n.id))), last_link_id: nextLink, nodes: this.nodes, links: this.links, version: 0.4, extra: this.extra };
    if (this.definitions) wf.definitions = this.definitions as NonNullable<UiWorkflow['definitions']>;
    return wf;
  }
}

/** The default text-to-image graph: 4 checkpoint, 6/7 prompts, 5 latent, 3 sampler, 8 decode, 9 save. */
export function txt2img(): WorkflowBuilder {
  return new WorkflowBuilder()
    .node(4, 'CheckpointLoaderSimple', ['a.safetensors'])
    .node(6, 'CLIPTextEncode', ['a cat'])
    .node(7, 'CLIPTextEncode', ['blurry'])
    .node(5, 'EmptyLatentImage', [512, 768, 1])
    .node(3, 'KSampler', [42, 'randomize', 20, 7.5, 'euler', 'karras', 1])
    .node(8, 'VAEDecode')
    .node(9, 'SaveImage', ['out'])
    .link(4, 1, 6, 'clip', 'CLIP').link(4, 1, 7, 'clip', 'CLIP')
    .link(4, 0, 3, 'model', 'MODEL').link(6, 0, 3, 'positive', 'CONDITIONING').link(7, 0, 3, 'negative', 'CONDITIONING')
    .link(5, 0, 3, 'latent_image', 'LATENT').link(3, 0, 8, 'samples', 'LATENT').link(4, 2, 8, 'vae', 'VAE')
    .link(8, 0, 9, 'images', 'IMAGE');
}
