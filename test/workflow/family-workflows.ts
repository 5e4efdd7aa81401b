/**
 * Generators of unseen workflows, one family each, for the property tests against the browser
 * oracle: every parameter is a plain value so fast-check can draw and shrink it.
 *
 * nestedPromotion: a widget (EmptyLatentImage.width) promoted up through `depth` nested subgraph
 * levels; at level `feedLevel` (0 = root) the host input is fed by a source — a backend node
 * (PrimitiveInt), a PrimitiveNode, or a PrimitiveInt behind a Reroute — in mode `sourceMode`;
 * feedLevel -1 means no link anywhere (the hosts' widgets_values carry the value).
 */
type Json = Record<string, unknown>;

export type SourceKind = 'node' | 'primitive' | 'reroute';

export interface NestedPromotionParams {
  /** Nesting levels below the root, 1–3. */
  depth: number;
  /** Level whose host input is linked from `source`; -1: none (values only). Clamped to depth-1. */
  feedLevel: number;
  source: SourceKind;
  sourceMode: 0 | 2 | 4;
  /** Whether hosts save widgets_values for their promoted input. */
  hostValues: boolean;
  /** A second interior consumer of the promoted input (EmptyLatentImage.height of a second node). */
  secondConsumer: boolean;
  /** The innermost node's mode. */
  innerMode: 0 | 2 | 4;
  /** Every level reuses the same node ids (the frontend renumbers clashing interior ids). */
  sameIds?: boolean;
  /** Mode of the nested hosts (levels 1 and deeper; the root host stays active). */
  nestedHostMode?: 0 | 2 | 4;
  /**
   * The root host also carries legacy `properties.proxyWidgets` naming the widget's holder one
   * level down, with its own value: repaired at load into a promoted input (proxy-widgets.ts).
   */
  legacyProxy?: boolean;
}

const SG = (level: number) => `5ub9a000-0000-4000-8000-00000000000${level}`.replace('5ub', 'aaa');

interface Graph { nodes: Json[]; links: Json[]; inputs: Json[]; outputs: Json[]; nextLink: number }

function graph(): Graph {
  return { nodes: [], links: [], inputs: [], outputs: [], nextLink: 1 };
}

/** Adds a link in the level's own form; returns its id. */
function link(g: Graph, level: number, origin: number, originSlot: number, target: number, targetSlot: number, type: string): number {
  const id = level * 100 + g.nextLink++;
  g.links.push(level === 0 ? [id, origin, originSlot, target, targetSlot, type] as unknown as Json
    : { id, origin_id: origin, origin_slot: originSlot, target_id: target, target_slot: targetSlot, type });
  return id;
}

function subgraphInput(g: Graph, name: string, type: string, linkIds: number[]): void {
  g.inputs.push({ id: `in-${name}-${g.inputs.length}`, name, type, linkIds, pos: [0, 0], localized_name: name });
}

export function nestedPromotionWorkflow(p: NestedPromotionParams): Json {
  const depth = Math.max(1, Math.min(3, p.depth));
  const feedLevel = Math.max(-1, Math.min(depth - 1, p.feedLevel));
  const levels: Graph[] = Array.from({ length: depth + 1 }, graph);
  const value = (level: number) => 64 + level * 8;

  // Innermost level: the node(s) whose widget is promoted.
  const inner = levels[depth]!;
  const at = (level: number, n: number) => (p.sameIds ? n : level * 10 + n);
  const innerId = at(depth, 1);
  const promotedHere = feedLevel < depth; // always: feedLevel <= depth-1
  const widthLinks: number[] = [];
  const innerNode: Json = {
    id: innerId, type: 'EmptyLatentImage', pos: [0, 0], size: [200, 100], flags: {}, order: 0, mode: p.innerMode,
    inputs: [{ name: 'width', type: 'INT', widget: { name: 'width' }, link: null }],
    outputs: [{ name: 'LATENT', type: 'LATENT', links: [] }],
    properties: { 'Node name for S&R': 'EmptyLatentImage' }, widgets_values: [512 + depth, 520, 1],
  };
  inner.nodes.push(innerNode);
  if (promotedHere) {
    const id = link(inner, depth, -10, 0, innerId, 0, 'INT');
    (innerNode.inputs as Json[])[0]!.link = id;
    widthLinks.push(id);
  }
  if (p.secondConsumer) {
    const secondId = at(depth, 3);
    const id = link(inner, depth, -10, 0, secondId, 0, 'INT');
    widthLinks.push(id);
    inner.nodes.push({
      id: secondId, type: 'EmptyLatentImage', pos: [0, 200], size: [200, 100], flags: {}, order: 1, mode: 0,
      inputs: [{ name: 'height', type: 'INT', widget: { name: 'height' }, link: id }],
      outputs: [{ name: 'LATENT', type: 'LATENT', links: [] }],
      properties: {}, widgets_values: [640, 648, 1],
    });
  }
  subgraphInput(inner, 'width', 'INT', widthLinks);
  const outLink = link(inner, depth, innerId, 0, -20, 0, 'LATENT');
  (innerNode.outputs as Json[])[0]!.links = [outLink];
  inner.outputs.push({ id: 'out-latent', name: 'LATENT', type: 'LATENT', linkIds: [outLink], pos: [0, 0] });

  // Each outer level holds one host of the level below; from feedLevel down the input is promoted.
  for (let level = depth - 1; level >= 0; level--) {
    const g = levels[level]!;
    const hostId = at(level, 2);
    const hostInput: Json = { name: 'width', type: 'INT', widget: { name: 'width' }, link: null };
    const host: Json = {
      id: hostId, type: SG(level + 1), pos: [0, 0], size: [200, 100], flags: {}, order: 1, mode: level > 0 ? p.nestedHostMode ?? 0 : 0,
      inputs: [hostInput], outputs: [{ name: 'LATENT', type: 'LATENT', links: [] }], properties: {},
      ...(p.hostValues ? { widgets_values: [value(level)] } : {}),
    };
    g.nodes.push(host);
    if (level > feedLevel && level > 0) {
      // Promoted further up: the host's input comes from this level's own subgraph input.
      const id = link(g, level, -10, 0, hostId, 0, 'INT');
      hostInput.link = id;
      subgraphInput(g, 'width', 'INT', [id]);
    } else if (level === feedLevel) {
      const sourceId = at(level, 5);
      const target = p.source === 'reroute' ? at(level, 6) : hostId;
      if (p.source === 'primitive') {
        const id = link(g, level, sourceId, 0, hostId, 0, 'INT');
        hostInput.link = id;
        g.nodes.push({
          id: sourceId, type: 'PrimitiveNode', pos: [0, 0], size: [200, 80], flags: {}, order: 0, mode: p.sourceMode,
          inputs: [], outputs: [{ name: 'INT', type: 'INT', widget: { name: 'width' }, links: [id] }],
          properties: { 'Run widget replace on values': false }, widgets_values: [value(level) + 1000, 'fixed'],
        });
      } else {
        const id = link(g, level, sourceId, 0, target, 0, 'INT');
        g.nodes.push({
          id: sourceId, type: 'PrimitiveInt', pos: [0, 0], size: [200, 80], flags: {}, order: 0, mode: p.sourceMode,
          inputs: [], outputs: [{ name: 'INT', type: 'INT', links: [id] }],
          properties: { 'Node name for S&R': 'PrimitiveInt' }, widgets_values: [value(level) + 1000, 'fixed'],
        });
        if (p.source === 'reroute') {
          const out = link(g, level, target, 0, hostId, 0, 'INT');
          hostInput.link = out;
          g.nodes.push({
            id: target, type: 'Reroute', pos: [0, 0], size: [75, 26], flags: {}, order: 0, mode: 0,
            inputs: [{ name: '', type: '*', link: id }], outputs: [{ name: '', type: 'INT', links: [out] }],
            properties: { showOutputText: false, horizontal: false },
          });
        } else {
          hostInput.link = id;
        }
      }
    }
    if (level > 0) {
      const out = link(g, level, hostId, 0, -20, 0, 'LATENT');
      (host.outputs as Json[])[0]!.links = [out];
      g.outputs.push({ id: 'out-latent', name: 'LATENT', type: 'LATENT', linkIds: [out], pos: [0, 0] });
    }
  }

  const root = levels[0]!;
  if (p.legacyProxy) {
    const rootHost = root.nodes.find((n) => n.id === at(0, 2))!;
    const holder = depth === 1 ? innerId : at(1, 2);
    rootHost.properties = { proxyWidgets: [[String(holder), 'width']] };
    rootHost.widgets_values = [4000];
  }
  const subgraphs = levels.slice(1).map((g, i) => ({
    id: SG(i + 1), version: 1, state: { lastGroupId: 0, lastNodeId: 99, lastLinkId: 999, lastRerouteId: 0 },
    revision: 0, config: {}, name: `level ${i + 1}`,
    inputNode: { id: -10, bounding: [-300, 0, 120, 60] }, outputNode: { id: -20, bounding: [600, 0, 120, 60] },
    inputs: g.inputs, outputs: g.outputs, widgets: [], nodes: g.nodes, groups: [], links: g.links, extra: {},
  }));
  // Links into root nodes must be listed on their origin outputs too.
  for (const l of root.links as unknown as number[][]) {
    const origin = root.nodes.find((n) => n.id === l[1]);
    const out = (origin?.outputs as Json[] | undefined)?.[l[2]!];
    if (out) out.links = [...new Set([...((out.links as number[]) ?? []), l[0]!])];
  }
  return {
    id: '00000000-0000-4000-8000-000000000001', revision: 0, last_node_id: 99, last_link_id: 999,
    nodes: root.nodes, links: root.links, groups: [], config: {},
    definitions: { subgraphs }, extra: {}, version: 0.4,
  };
}

/** How one inner widget of a legacy group node is saved. */
export type GroupWidgetState = 'widget' | 'converted' | 'linked';

export interface GroupNodeParams {
  /** EmptyLatentImage.width, KSampler.seed, KSampler.steps inside the group. */
  width: GroupWidgetState;
  seed: GroupWidgetState;
  steps: GroupWidgetState;
  /** Mode of the outer PrimitiveInt nodes feeding linked widgets. */
  sourceMode: 0 | 2 | 4;
  /** Whether the group node's widgets_values is saved complete, short by one, or absent. */
  values: 'complete' | 'short' | 'absent';
  /** Mode of the group node itself. */
  groupMode: 0 | 2 | 4;
  /** A CheckpointLoaderSimple first inside the group, feeding the KSampler's model (its combo is an input slot of the group). */
  checkpointInside: boolean;
  /** The old `workflow/NAME` type instead of `workflow>NAME`. */
  oldType: boolean;
}

/**
 * A legacy group node (`workflow>G`, extra.groupNodes) holding EmptyLatentImage → KSampler, its
 * model and conditionings fed from outside, and some inner widgets converted to inputs ("converted"),
 * some of those linked from outer PrimitiveInt nodes ("linked"). The group node's widgets_values
 * hold distinct values in the group's widget order: the inner nodes' widgets, then the converted
 * ones (GroupNodeConfig.processConvertedWidgets).
 */
export function groupNodeWorkflow(p: GroupNodeParams): Json {
  const input = (name: string, type: string, widget = false) => ({ name, type, link: null as number | null, ...(widget ? { widget: { name } } : {}) });
  const latentInputs = p.width === 'widget' ? [] : [input('width', 'INT', true)];
  const samplerInputs = [input('model', 'MODEL'), input('positive', 'CONDITIONING'), input('negative', 'CONDITIONING'), input('latent_image', 'LATENT'),
    ...(p.seed === 'widget' ? [] : [input('seed', 'INT', true)]), ...(p.steps === 'widget' ? [] : [input('steps', 'INT', true)])];
  const off = p.checkpointInside ? 1 : 0;
  const inner: Json[] = [
    { index: 0 + off, type: 'EmptyLatentImage', pos: [0, 0], size: [200, 100], flags: {}, order: 0, mode: 0, inputs: latentInputs,
      outputs: [{ name: 'LATENT', type: 'LATENT', links: [], slot_index: 0 }], properties: { 'Node name for S&R': 'EmptyLatentImage' }, widgets_values: [512, 512, 1] },
    { index: 1 + off, type: 'KSampler', pos: [300, 0], size: [200, 200], flags: {}, order: 1, mode: 0, inputs: samplerInputs,
      outputs: [{ name: 'LATENT', type: 'LATENT', links: [], slot_index: 0 }], properties: { 'Node name for S&R': 'KSampler' },
      widgets_values: [1, 'fixed', 20, 8, 'euler', 'normal', 1] },
  ];
  if (p.checkpointInside) {
    inner.unshift({ index: 0, type: 'CheckpointLoaderSimple', pos: [0, 300], size: [200, 100], flags: {}, order: 0, mode: 0, inputs: [],
      outputs: [{ name: 'MODEL', type: 'MODEL', links: [], slot_index: 0 }, { name: 'CLIP', type: 'CLIP', links: [] }, { name: 'VAE', type: 'VAE', links: [] }],
      properties: {}, widgets_values: ['inner.safetensors'] });
  }
  // The group's widgets: inner widgets in node order, converted ones last (seed gains a control widget).
  const normal: Array<[string, unknown[]]> = p.checkpointInside ? [['ckpt_name', ['group.safetensors']]] : [];
  if (p.width === 'widget') normal.push(['width', [704]]);
  normal.push(['height', [712]], ['batch_size', [2]]);
  if (p.seed === 'widget') normal.push(['seed', [123456, 'fixed']]);
  if (p.steps === 'widget') normal.push(['steps', [31]]);
  normal.push(['cfg', [6.5]], ['sampler_name', ['dpmpp_2m']], ['scheduler', ['karras']], ['denoise', [0.75]]);
  const converted: Array<[string, unknown[]]> = [];
  if (p.width !== 'widget') converted.push(['width', [720]]);
  if (p.seed !== 'widget') converted.push(['seed', [654321, 'fixed']]);
  if (p.steps !== 'widget') converted.push(['steps', [33]]);
  let values = [...normal, ...converted].flatMap(([, v]) => v);
  if (p.values === 'short') values = values.slice(0, -1);

  const nodes: Json[] = [];
  const links: unknown[][] = [];
  let linkId = 0;
  const connect = (origin: number, slot: number, target: number, targetSlot: number, type: string) => {
    links.push([++linkId, origin, slot, target, targetSlot, type]);
    return linkId;
  };
  const groupInputs: Array<Json & { link: number | null }> = [
    ...(p.checkpointInside ? [] : [{ name: 'model', type: 'MODEL', link: connect(1, 0, 10, 0, 'MODEL') }]),
    { name: 'positive', type: 'CONDITIONING', link: connect(2, 0, 10, 1 - off, 'CONDITIONING') },
    { name: 'negative', type: 'CONDITIONING', link: connect(3, 0, 10, 2 - off, 'CONDITIONING') },
  ];
  let primitiveId = 20;
  for (const [name] of converted) {
    const state = name === 'width' ? p.width : name === 'seed' ? p.seed : p.steps;
    const slot: Json & { link: number | null } = { name, type: 'INT', widget: { name }, link: null };
    if (state === 'linked') {
      const id = primitiveId++;
      slot.link = connect(id, 0, 10, groupInputs.length, 'INT');
      nodes.push({ id, type: 'PrimitiveInt', pos: [0, 400], size: [200, 80], flags: {}, order: 0, mode: p.sourceMode, inputs: [],
        outputs: [{ name: 'INT', type: 'INT', links: [slot.link] }], properties: {}, widgets_values: [900 + id, 'fixed'] });
    }
    groupInputs.push(slot);
  }
  const outLink = connect(10, 0, 11, 0, 'LATENT');
  nodes.unshift(
    { id: 1, type: 'CheckpointLoaderSimple', pos: [0, 0], size: [200, 100], flags: {}, order: 0, mode: 0, inputs: [],
      outputs: [{ name: 'MODEL', type: 'MODEL', links: p.checkpointInside ? [] : [1] }, { name: 'CLIP', type: 'CLIP', links: [] }, { name: 'VAE', type: 'VAE', links: [] }],
      properties: {}, widgets_values: ['model.safetensors'] },
    { id: 2, type: 'ConditioningZeroOut', pos: [0, 0], size: [200, 100], flags: {}, order: 0, mode: 0, inputs: [{ name: 'conditioning', type: 'CONDITIONING', link: null }],
      outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [2] }], properties: {} },
    { id: 3, type: 'ConditioningZeroOut', pos: [0, 0], size: [200, 100], flags: {}, order: 0, mode: 0, inputs: [{ name: 'conditioning', type: 'CONDITIONING', link: null }],
      outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [3] }], properties: {} },
    { id: 10, type: p.oldType ? 'workflow/G' : 'workflow>G', pos: [300, 0], size: [300, 300], flags: {}, order: 1, mode: p.groupMode, inputs: groupInputs,
      outputs: [{ name: 'LATENT', type: 'LATENT', links: [outLink] }], properties: { 'Node name for S&R': 'workflow>G' },
      ...(p.values === 'absent' ? {} : { widgets_values: values }) },
    { id: 11, type: 'LatentUpscaleBy', pos: [700, 0], size: [200, 100], flags: {}, order: 2, mode: 0, inputs: [{ name: 'samples', type: 'LATENT', link: outLink }],
      outputs: [{ name: 'LATENT', type: 'LATENT', links: [] }], properties: {}, widgets_values: ['nearest-exact', 1.5] },
  );
  return {
    last_node_id: 30, last_link_id: linkId, nodes, links, groups: [], config: {}, version: 0.4,
    extra: { groupNodes: { G: { nodes: inner, links: [[off, 0, 1 + off, 3, 9, 'LATENT'], ...(p.checkpointInside ? [[0, 0, 2, 0, 8, 'MODEL']] : [])], external: [] } } },
  };
}

/**
 * Nodes whose properties carry node-pack identities of every shape zNodePackMetadata meets
 * (frontend 1.58 copies the valid ones into `_meta`), and untitled nodes of classes the server
 * leaves without a display_name (1.58 titles them from its locale).
 */
export function packMetadataWorkflow(): Json {
  const shapes: Array<Record<string, unknown>> = [
    { cnr_id: 'comfy-core', ver: '0.3.44' },
    { cnr_id: 'comfy-core', ver: 'v1.2.3' },
    { cnr_id: 'some-pack', ver: 'unknown' },
    { aux_id: 'someone/some-repo', ver: 'a1b2c3d' },
    { aux_id: 'not a repo', ver: 'nope' },
    { cnr_id: '-bad-', ver: '1.2' },
    { cnr_id: 'comfy-core', aux_id: 'user/repo', ver: '2.0.0-beta.1+build.5' },
    { cnr_id: 42, ver: 3 },
    {},
  ];
  const nodes: Json[] = shapes.map((properties, i) => ({
    id: i + 1, type: 'EmptyLatentImage', pos: [0, i * 100], size: [200, 100], flags: {}, order: i, mode: 0,
    inputs: [], outputs: [{ name: 'LATENT', type: 'LATENT', links: [] }], properties: { 'Node name for S&R': 'EmptyLatentImage', ...properties },
    widgets_values: [512, 512, 1], ...(i === 3 ? { title: 'Custom title' } : {}),
  }));
  for (const [i, type] of ['StableCascade_EmptyLatentImage', 'EmptyHunyuanImageLatent', 'EmptyLTXVLatentVideo'].entries()) {
    nodes.push({ id: 20 + i, type, pos: [400, i * 100], size: [200, 100], flags: {}, order: 20 + i, mode: 0, inputs: [],
      outputs: [{ name: 'LATENT', type: 'LATENT', links: [] }], properties: {} });
  }
  return { last_node_id: 30, last_link_id: 0, nodes, links: [], groups: [], config: {}, extra: {}, version: 0.4 };
}
