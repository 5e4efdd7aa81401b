import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { convertWorkflow, NodeDefinitions, type UiWorkflow } from '../../src/workflow/index.js';
import { DEFS, txt2img, WorkflowBuilder } from './wf-builder.js';

const defs = new NodeDefinitions(DEFS);

describe('convertWorkflow: widgets', () => {
  test('widget values by input order, control slots skipped, links by name', () => {
    const prompt = convertWorkflow(txt2img().build(), defs);
    assert.deepEqual(prompt['3'], {
      inputs: {
        seed: 42, steps: 20, cfg: 7.5, sampler_name: 'euler', scheduler: 'karras', denoise: 1,
        model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0],
      },
      class_type: 'KSampler', _meta: { title: 'KSampler' },
    });
    assert.deepEqual(prompt['9']?.inputs, { filename_prefix: 'out', images: ['8', 0] });
    assert.deepEqual(Object.keys(prompt).sort(), ['3', '4', '5', '6', '7', '8', '9']);
  });

  test('_meta.title is the saved title, else the display name', () => {
    const wf = txt2img().build();
    wf.nodes.find((n) => n.id === 6)!.title = 'Positive';
    const prompt = convertWorkflow(wf, defs);
    assert.equal(prompt['6']?._meta?.title, 'Positive');
    assert.equal(prompt['7']?._meta?.title, 'CLIP Text Encode (Prompt)');
  });

  test('upload button takes a widgets_values slot but is not sent', () => {
    const wf = new WorkflowBuilder().node(1, 'LoadImage', ['cat.png', 'image']).node(2, 'ImageInvert').link(1, 0, 2, 'image', 'IMAGE').build();
    assert.deepEqual(convertWorkflow(wf, defs)['1']?.inputs, { image: 'cat.png' });
  });

  test('a combo with control_after_generate has two extra slots; explicit false turns seed control off', () => {
    const wf = new WorkflowBuilder().node(1, 'V3Node', ['fast', 'z', 'fixed', '', 7]).build();
    assert.deepEqual(convertWorkflow(wf, defs)['1']?.inputs, { mode: 'fast', pick: 'z', seed: 7, strength: 0.5 });
  });

  test('missing values keep definition defaults; extra values are ignored', () => {
    const short = new WorkflowBuilder().node(1, 'V3Node', ['fast']).build();
    assert.deepEqual(convertWorkflow(short, defs)['1']?.inputs, { mode: 'fast', pick: 'x', seed: 1, strength: 0.5 });
    const long = new WorkflowBuilder().node(1, 'EmptyLatentImage', [64, 64, 2, 'stray', 9]).build();
    assert.deepEqual(convertWorkflow(long, defs)['1']?.inputs, { width: 64, height: 64, batch_size: 2 });
  });

  test('legacy forceInput slot (saved before frontend 1.16) is dropped', () => {
    // Legacy slots: caption (forceInput), seed, seed control, steps.
    const wf = new WorkflowBuilder().node(1, 'LegacyNode', ['old caption', 5, 'fixed', 30]).build();
    assert.deepEqual(convertWorkflow(wf, defs)['1']?.inputs, { seed: 5, steps: 30 });
    const current = new WorkflowBuilder().node(1, 'LegacyNode', [5, 'fixed', 30]).build();
    assert.deepEqual(convertWorkflow(current, defs)['1']?.inputs, { seed: 5, steps: 30 });
  });

  test('widgets_values as an object maps by widget name', () => {
    const wf = new WorkflowBuilder().node(1, 'EmptyLatentImage', { height: 300, width: 200, videopreview: {} }).build();
    assert.deepEqual(convertWorkflow(wf, defs)['1']?.inputs, { width: 200, height: 300, batch_size: 1 });
  });

  test('list values are wrapped as {__value__: [...]}', () => {
    const wf = new WorkflowBuilder().node(1, 'ListNode', [['a', 'c']]).build();
    assert.deepEqual(convertWorkflow(wf, defs)['1']?.inputs, { items: { __value__: ['a', 'c'] } });
  });

  test('a dynamic combo inserts the chosen option\'s widgets after it', () => {
    const wf = new WorkflowBuilder().node(1, 'LoadImage', ['cat.png', 'image']).node(2, 'Resize', ['scale by multiplier', 2.5, 'bilinear'])
      .link(1, 0, 2, 'image', 'IMAGE').build();
    assert.deepEqual(convertWorkflow(wf, defs)['2']?.inputs, {
      resize_type: 'scale by multiplier', 'resize_type.multiplier': 2.5, scale_method: 'bilinear', image: ['1', 0],
    });
  });

  test('CustomCombo: computed index and growing option widgets', () => {
    const wf = new WorkflowBuilder().node(1, 'CustomCombo', ['9:16', 0, '16:9', '9:16', '']).build();
    assert.deepEqual(convertWorkflow(wf, defs)['1']?.inputs, { choice: '9:16', index: 1, option1: '16:9', option2: '9:16', option3: '' });
  });

  test('IMAGECOMPARE takes no slot and always sends the empty pair; BOUNDING_BOX parts take slots, unsent', () => {
    const wf = new WorkflowBuilder().node(1, 'ImageCompare', [{ before: '/api/view?x' }])
      .node(2, 'ImageCropV2', [{ x: 1, y: 2, width: 30, height: 40 }, 1, 2, 30, 40]).build();
    const prompt = convertWorkflow(wf, defs);
    assert.deepEqual(prompt['1']?.inputs, { compare_view: { __value__: ['', ''] } });
    assert.deepEqual(prompt['2']?.inputs, { crop_region: { x: 1, y: 2, width: 30, height: 40 } });
  });

  test('titles follow the frontend locale where it differs from the server', () => {
    const wf = new WorkflowBuilder().node(1, 'TopazImageEnhance').build();
    assert.equal(convertWorkflow(wf, defs)['1']?._meta?.title, 'Topaz Image Enhance');
  });

  test('a linked widget input sends the link, not the widget value', () => {
    const wf = txt2img().node(20, 'V3Node', ['fast', 'x', 'fixed', '', 1, 0.5]).link(20, 0, 6, 'text', 'STRING', true).build();
    assert.deepEqual(convertWorkflow(wf, defs)['6']?.inputs, { text: ['20', 0], clip: ['4', 1] });
  });

  test('KSampler sampler names saved with the old sample_ prefix lose it', () => {
    const wf = txt2img().build();
    wf.nodes.find((n) => n.id === 3)!.widgets_values = [1, 'fixed', 20, 8, 'sample_euler', 'normal', 1];
    assert.equal(convertWorkflow(wf, defs)['3']?.inputs.sampler_name, 'euler');
  });
});

describe('convertWorkflow: virtual nodes', () => {
  test('Note and MarkdownNote are dropped', () => {
    const wf = txt2img().node(30, 'Note', ['hello']).node(31, 'MarkdownNote', ['# hi']).build();
    const prompt = convertWorkflow(wf, defs);
    assert.equal(prompt['30'], undefined);
    assert.equal(prompt['31'], undefined);
  });

  test('PrimitiveNode pushes its value into the widgets of its direct targets', () => {
    const wf = txt2img().node(40, 'PrimitiveNode', [777, 'fixed'])
      .link(40, 0, 3, 'seed', 'INT', true).build();
    const prompt = convertWorkflow(wf, defs);
    assert.equal(prompt['3']?.inputs.seed, 777);
    assert.equal(prompt['40'], undefined);
  });

  test('PrimitiveNode does not reach through a Reroute (the target keeps its own value)', () => {
    const wf = txt2img().node(40, 'PrimitiveNode', [777, 'fixed']).node(41, 'Reroute')
      .link(40, 0, 41, '', '*').link(41, 0, 3, 'seed', 'INT', true).build();
    assert.equal(convertWorkflow(wf, defs)['3']?.inputs.seed, 42);
  });

  test('Reroutes are followed to the real source', () => {
    const b = new WorkflowBuilder().node(1, 'LoadImage', ['cat.png', 'image']).node(2, 'Reroute').node(3, 'Reroute').node(4, 'ImageInvert')
      .link(1, 0, 2, '', '*').link(2, 0, 3, '', '*').link(3, 0, 4, 'image', 'IMAGE');
    const prompt = convertWorkflow(b.build(), defs);
    assert.deepEqual(prompt['4']?.inputs, { image: ['1', 0] });
    assert.equal(prompt['2'], undefined);
  });

  test('a Reroute loop is an InvalidWorkflowError naming a node', () => {
    const b = new WorkflowBuilder().node(2, 'Reroute').node(3, 'Reroute').node(4, 'ImageInvert')
      .link(2, 0, 3, '', '*').link(3, 0, 2, '', '*').link(3, 0, 4, 'image', 'IMAGE');
    assert.throws(() => convertWorkflow(b.build(), defs), (e: Error & { code?: string }) => e.code === 'COMFY_INVALID_WORKFLOW' && /Node \d/.test(e.message));
  });
});

describe('convertWorkflow: muted and bypassed nodes', () => {
  test('a muted node is left out and links to it are removed', () => {
    const wf = txt2img().build();
    wf.nodes.find((n) => n.id === 8)!.mode = 2;
    const prompt = convertWorkflow(wf, defs);
    assert.equal(prompt['8'], undefined);
    assert.deepEqual(prompt['9']?.inputs, { filename_prefix: 'out' });
  });

  test('a bypassed node forwards its input of the matching type', () => {
    const b = new WorkflowBuilder().node(1, 'LoadImage', ['cat.png', 'image']).node(2, 'ImageInvert', undefined, { mode: 4 }).node(3, 'SaveImage', ['x'])
      .link(1, 0, 2, 'image', 'IMAGE').link(2, 0, 3, 'images', 'IMAGE');
    const prompt = convertWorkflow(b.build(), defs);
    assert.deepEqual(prompt['3']?.inputs, { filename_prefix: 'x', images: ['1', 0] });
    assert.equal(prompt['2'], undefined);
  });

  test('bypass prefers the same slot when its type fits (positive stays positive)', () => {
    const b = txt2img().node(50, 'ConditioningCombine', undefined, { mode: 4 }).node(51, 'CLIPTextEncode', ['other'])
      .link(51, 0, 50, 'conditioning_1', 'CONDITIONING').link(6, 0, 50, 'conditioning_2', 'CONDITIONING');
    const wf = b.build();
    // Re-point the sampler's positive at the bypassed combine node.
    const sampler = wf.nodes.find((n) => n.id === 3)!;
    const positive = sampler.inputs!.find((i) => i.name === 'positive')!;
    const link = wf.links!.find((l) => Array.isArray(l) && l[0] === positive.link) as unknown[];
    link[1] = 50;
    assert.deepEqual(convertWorkflow(wf, defs)['3']?.inputs.positive, ['51', 0]);
  });

  test('a bypassed node with no input of the type gives no link', () => {
    const b = new WorkflowBuilder().node(1, 'EmptyLatentImage', [8, 8, 1], { mode: 4 }).node(2, 'VAEDecode').link(1, 0, 2, 'samples', 'LATENT');
    assert.deepEqual(convertWorkflow(b.build(), defs)['2']?.inputs, {});
  });
});

describe('convertWorkflow: value transforms', () => {
  test('dynamic prompts use the injected random and strip comments', () => {
    const wf = txt2img().build();
    wf.nodes.find((n) => n.id === 6)!.widgets_values = ['a {red|green|blue} car /* hidden */ // gone'];
    const prompt = convertWorkflow(wf, defs, { random: () => 0.5 });
    assert.equal(prompt['6']?.inputs.text, 'a green car  ');
  });

  test('filename_prefix: %date:…% uses the injected clock, %Node.widget% reads the other node', () => {
    const wf = txt2img().build();
    wf.nodes.find((n) => n.id === 9)!.widgets_values = ['%date:yyyy-MM-dd%/%KSampler.seed%_%EmptyLatentImage.width%_%width%'];
    const prompt = convertWorkflow(wf, defs, { now: () => new Date(2025, 0, 2, 3, 4, 5) });
    assert.equal(prompt['9']?.inputs.filename_prefix, '2025-01-02/42_512_%width%');
  });
});

describe('convertWorkflow: errors', () => {
  test('an unknown node type names the node and the pack recorded in the workflow', () => {
    const wf = txt2img().node(60, 'FancyUpscale', [2], { properties: { cnr_id: 'comfyui-fancy', ver: '1.2.0' } }).build();
    assert.throws(() => convertWorkflow(wf, defs), (e: Error & { code?: string; nodeId?: string; pack?: string }) =>
      e.code === 'COMFY_UNKNOWN_NODE_TYPE' && e.nodeId === '60' && e.pack === 'comfyui-fancy@1.2.0' && e.message.includes('FancyUpscale'));
  });

  test('an unknown node type that is muted or bypassed is tolerated, as in the frontend', () => {
    const wf = txt2img().node(60, 'FancyUpscale', [2], { mode: 2 }).build();
    assert.equal(convertWorkflow(wf, defs)['60'], undefined);
  });

  test('a link from a node that does not exist is an InvalidWorkflowError naming the node', () => {
    const wf = txt2img().build();
    (wf.links as unknown[][]).push([5000, 99, 0, 8, 0, 'LATENT']);
    wf.nodes.find((n) => n.id === 8)!.inputs![0]!.link = 5000;
    assert.throws(() => convertWorkflow(wf, defs), (e: Error & { code?: string; nodeId?: string }) => e.code === 'COMFY_INVALID_WORKFLOW' && e.nodeId === '8');
  });

  test('a cycle between real nodes is an InvalidWorkflowError', () => {
    const b = new WorkflowBuilder().node(1, 'ImageInvert').node(2, 'ImageInvert').link(1, 0, 2, 'image', 'IMAGE').link(2, 0, 1, 'image', 'IMAGE');
    assert.throws(() => convertWorkflow(b.build(), defs), (e: Error & { code?: string }) => e.code === 'COMFY_INVALID_WORKFLOW' && /cycle/.test(e.message));
  });

  test('something that is not a UI workflow is an InvalidWorkflowError, not a TypeError', () => {
    for (const bad of [null, 42, { nodes: 'x' }, { '3': { class_type: 'KSampler', inputs: {} } }]) {
      assert.throws(() => convertWorkflow(bad as unknown as UiWorkflow, defs), (e: Error & { code?: string }) => e.code === 'COMFY_INVALID_WORKFLOW');
    }
  });

  test('the input workflow is not modified', () => {
    const wf = txt2img().build();
    wf.nodes.find((n) => n.id === 6)!.widgets_values = ['{a|b}'];
    const before = JSON.stringify(wf);
    convertWorkflow(wf, defs, { random: () => 0 });
    assert.equal(JSON.stringify(wf), before);
  });
});

/** A subgraph "Encode" wrapping one CLIPTextEncode (inner id `inner`), with inputs clip and text. */
function subgraphWorkflow(inner = 1): WorkflowBuilder {
  const b = txt2img();
  b.definitions = {
    subgraphs: [{
      id: 'sg-encode', name: 'Encode', version: 1,
      inputNode: { id: -10 }, outputNode: { id: -20 },
      inputs: [{ name: 'clip', type: 'CLIP', linkIds: [1] }, { name: 'text', type: 'STRING', linkIds: [2] }],
      outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', linkIds: [3] }],
      nodes: [{
        id: inner, type: 'CLIPTextEncode', mode: 0,
        inputs: [{ name: 'clip', type: 'CLIP', link: 1 }, { name: 'text', type: 'STRING', widget: { name: 'text' }, link: 2 }],
        outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [3] }],
        widgets_values: ['interior text'],
      }],
      links: [
        { id: 1, origin_id: -10, origin_slot: 0, target_id: inner, target_slot: 0, type: 'CLIP' },
        { id: 2, origin_id: -10, origin_slot: 1, target_id: inner, target_slot: 1, type: 'STRING' },
        { id: 3, origin_id: inner, origin_slot: 0, target_id: -20, target_slot: 0, type: 'CONDITIONING' },
      ],
    }],
  };
  // Two instances replace the prompts 6 and 7: one with a promoted value, one without.
  b.node(10, 'sg-encode', ['host text'], { inputs: [{ name: 'clip', type: 'CLIP', link: null }, { name: 'text', type: 'STRING', widget: { name: 'text' }, link: null }] })
    .node(11, 'sg-encode', [], { inputs: [{ name: 'clip', type: 'CLIP', link: null }, { name: 'text', type: 'STRING', widget: { name: 'text' }, link: null }] })
    .link(4, 1, 10, 'clip', 'CLIP').link(4, 1, 11, 'clip', 'CLIP');
  return b;
}

function repoint(wf: UiWorkflow, target: number, input: string, origin: number): void {
  const node = wf.nodes.find((n) => n.id === target)!;
  const linkId = node.inputs!.find((i) => i.name === input)!.link;
  const link = wf.links!.find((l) => Array.isArray(l) && l[0] === linkId) as unknown[];
  link[1] = origin;
  link[2] = 0;
}

describe('convertWorkflow: subgraphs', () => {
  test('interior nodes get ids host:inner; instance values override the interior value', () => {
    const wf = subgraphWorkflow().build();
    repoint(wf, 3, 'positive', 10);
    repoint(wf, 3, 'negative', 11);
    const prompt = convertWorkflow(wf, defs);
    assert.deepEqual(prompt['10:1'], { inputs: { text: 'host text', clip: ['4', 1] }, class_type: 'CLIPTextEncode', _meta: { title: 'CLIP Text Encode (Prompt)' } });
    assert.deepEqual(prompt['11:1']?.inputs, { text: 'interior text', clip: ['4', 1] });
    assert.deepEqual(prompt['3']?.inputs.positive, ['10:1', 0]);
    assert.deepEqual(prompt['3']?.inputs.negative, ['11:1', 0]);
    assert.equal(prompt['10'], undefined);
  });

  test('a linked host input is followed outside the subgraph', () => {
    const b = subgraphWorkflow().node(20, 'V3Node', ['fast', 'x', 'fixed', '', 1, 0.5]).link(20, 0, 10, 'text', 'STRING', true);
    const wf = b.build();
    repoint(wf, 3, 'positive', 10);
    assert.deepEqual(convertWorkflow(wf, defs)['10:1']?.inputs.text, ['20', 0]);
  });

  test('an inner id that clashes with a root id is renumbered above last_node_id', () => {
    const wf = subgraphWorkflow(4).build(); // 4 is the checkpoint loader at the root
    repoint(wf, 3, 'positive', 10);
    const prompt = convertWorkflow(wf, defs);
    const last = wf.last_node_id as number;
    assert.ok(prompt[`10:${last + 1}`], `expected 10:${last + 1} in ${Object.keys(prompt).join(',')}`);
    assert.deepEqual(prompt['3']?.inputs.positive, [`10:${last + 1}`, 0]);
  });

  test('an unlinked promoted input reaches socket targets too (value of the promoted widget)', () => {
    const wf = subgraphWorkflow().build();
    repoint(wf, 3, 'positive', 10);
    const def = wf.definitions!.subgraphs![0]!;
    // A second interior node whose socket-only input is fed from the same "text" subgraph input.
    def.nodes.push({ id: 2, type: 'SaveImage', mode: 0, inputs: [{ name: 'images', type: 'IMAGE', link: null }, { name: 'filename_prefix', type: 'STRING', link: 4 }], outputs: [], widgets_values: ['own'] });
    def.links!.push({ id: 4, origin_id: -10, origin_slot: 1, target_id: 2, target_slot: 1, type: 'STRING' });
    def.inputs![1]!.linkIds = [2, 4];
    wf.nodes.find((n) => n.id === 10)!.widgets_values = [];
    const prompt = convertWorkflow(wf, defs);
    assert.equal(prompt['10:2']?.inputs.filename_prefix, 'interior text');
  });

  test('nested subgraphs get ids outer:inner:node and pass links through both boundaries', () => {
    const b = subgraphWorkflow();
    b.definitions!.subgraphs.push({
      id: 'sg-outer', name: 'Outer', version: 1,
      inputs: [{ name: 'clip', type: 'CLIP', linkIds: [11] }],
      outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', linkIds: [12] }],
      nodes: [{
        id: 70, type: 'sg-encode', mode: 0, widgets_values: ['nested host text'],
        inputs: [{ name: 'clip', type: 'CLIP', link: 11 }, { name: 'text', type: 'STRING', widget: { name: 'text' }, link: null }],
        outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [12] }],
      }],
      links: [
        { id: 11, origin_id: -10, origin_slot: 0, target_id: 70, target_slot: 0, type: 'CLIP' },
        { id: 12, origin_id: 70, origin_slot: 0, target_id: -20, target_slot: 0, type: 'CONDITIONING' },
      ],
    });
    b.node(12, 'sg-outer', [], { inputs: [{ name: 'clip', type: 'CLIP', link: null }] }).link(4, 1, 12, 'clip', 'CLIP');
    const wf = b.build();
    repoint(wf, 3, 'positive', 12);
    const prompt = convertWorkflow(wf, defs);
    assert.deepEqual(prompt['12:70:1']?.inputs, { text: 'nested host text', clip: ['4', 1] });
    assert.deepEqual(prompt['3']?.inputs.positive, ['12:70:1', 0]);
  });

  test('a muted subgraph instance contributes no interior nodes', () => {
    const wf = subgraphWorkflow().build();
    wf.nodes.find((n) => n.id === 11)!.mode = 2;
    const prompt = convertWorkflow(wf, defs);
    assert.ok(prompt['10:1']);
    assert.equal(prompt['11:1'], undefined);
  });
});

describe('convertWorkflow: legacy group nodes', () => {
  test('a group node instance becomes a subgraph: interiors numbered after last_node_id, the instance after them', () => {
    const b = new WorkflowBuilder().node(1, 'LoadImage', ['cat.png', 'image'])
      .node(2, 'workflow>Invert twice', [], { inputs: [{ name: 'image', type: 'IMAGE', link: null }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [] }] })
      .node(3, 'SaveImage', ['g'])
      .link(1, 0, 2, 'image', 'IMAGE').link(2, 0, 3, 'images', 'IMAGE');
    b.extra = {
      groupNodes: {
        'Invert twice': {
          nodes: [
            { index: 0, type: 'ImageInvert', inputs: [{ name: 'image', type: 'IMAGE', link: null }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [] }] },
            { index: 1, type: 'ImageInvert', inputs: [{ name: 'image', type: 'IMAGE', link: null }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [] }] },
          ],
          links: [[null, 0, 0, 0, 1, 'IMAGE'], [0, 0, 1, 0, 2, 'IMAGE']],
          external: [],
        },
      },
    };
    const prompt = convertWorkflow(b.build(), defs);
    // last_node_id 3: inner nodes 4 and 5, the subgraph instance 6 (frontend 1.48.7 convertToSubgraph).
    assert.deepEqual(Object.keys(prompt).sort(), ['1', '3', '6:4', '6:5']);
    assert.deepEqual(prompt['6:4']?.inputs, { image: ['1', 0] });
    assert.deepEqual(prompt['6:5']?.inputs, { image: ['6:4', 0] });
    assert.deepEqual(prompt['3']?.inputs.images, ['6:5', 0]);
    assert.equal(prompt['6:4']?._meta?.title, defs.classInfo('ImageInvert')?.displayName);
  });

  test('an outer link into an inner Reroute is lost, as in the frontend (the Reroute\'s input is named "")', () => {
    const b = new WorkflowBuilder().node(1, 'LoadImage', ['cat.png', 'image'])
      .node(2, 'workflow>Via reroute', [], { inputs: [{ name: 'IMAGE', type: 'IMAGE', link: null }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [] }] })
      .node(3, 'SaveImage', ['g'])
      .link(1, 0, 2, 'IMAGE', 'IMAGE').link(2, 0, 3, 'images', 'IMAGE');
    b.extra = {
      groupNodes: {
        'Via reroute': {
          nodes: [
            { index: 0, type: 'Reroute', inputs: [{ name: '', type: '*', link: null }], outputs: [{ name: '', type: '*', links: null }] },
            { index: 1, type: 'ImageInvert', inputs: [{ name: 'image', type: 'IMAGE', link: null }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [] }] },
          ],
          links: [[null, 0, 0, 0, 1, 'IMAGE'], [0, 0, 1, 0, 2, 'IMAGE']],
          external: [],
        },
      },
    };
    const prompt = convertWorkflow(b.build(), defs);
    assert.deepEqual(prompt['6:5']?.inputs, {});
    assert.deepEqual(prompt['3']?.inputs.images, ['6:5', 0]);
  });

  test('group widget values follow the group node\'s widget order: unconverted widgets first, then inner widget sockets', () => {
    const b = new WorkflowBuilder()
      .node(5, 'workflow>Sizes', [100, 2, 300])
      .node(6, 'SaveImage', ['g']);
    b.extra = {
      groupNodes: {
        Sizes: {
          nodes: [
            // Saved with a widget socket for width: a "converted widget", which the group lists last.
            { index: 0, type: 'EmptyLatentImage', inputs: [{ name: 'width', type: 'INT', widget: { name: 'width' }, link: null }], outputs: [{ name: 'LATENT', type: 'LATENT', links: [] }], widgets_values: [9, 9, 9] },
          ],
          links: [],
          external: [],
        },
      },
    };
    const prompt = convertWorkflow(b.build(), defs);
    // Group widgets: height, batch_size, width → 100, 2, 300 (width listed last, not first).
    assert.deepEqual(prompt['8:7']?.inputs, { width: 300, height: 100, batch_size: 2 });
  });
});
