// The node catalogue: the recorded /object_info of real ComfyUI, plus the comfy-connector test
// nodes when a custom_nodes folder holds them (as real ComfyUI would load them), minus custom nodes
// under --disable-all-custom-nodes. LoadImage's file list is live, like the real server's.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type NodeInfo = {
  input: Record<string, Record<string, unknown[]>>;
  input_order: Record<string, string[]>;
  output: unknown[];
  output_node: boolean;
  python_module: string;
  [key: string]: unknown;
};
export type ObjectInfo = Record<string, NodeInfo>;

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const FIXTURE_OBJECT_INFO = join(HERE, '..', 'fixtures', 'comfyui-0.33.0', 'object_info.json');
const PROVISIONAL = '/work/comfy/object_info.provisional.json';
export const TEST_NODE_PACK = 'comfy_connector_test_nodes';

const TEST_NODES: ObjectInfo = {
  ComfyConnectorSlowCounter: {
    input: { required: { steps: ['INT', { default: 10, min: 1, max: 10000 }], delay_ms: ['INT', { default: 100, min: 0, max: 60000 }] }, optional: { image: ['IMAGE'], send_preview: ['BOOLEAN', { default: false }] } },
    input_order: { required: ['steps', 'delay_ms'], optional: ['image', 'send_preview'] },
    is_input_list: false, output: ['IMAGE', 'INT'], output_is_list: [false, false], output_name: ['image', 'count'],
    name: 'ComfyConnectorSlowCounter', display_name: 'Slow Counter (comfy-connector test)', description: '',
    python_module: `custom_nodes.${TEST_NODE_PACK}`, category: 'comfy_connector/testing', output_node: true, has_intermediate_output: false, search_aliases: [],
  },
  ComfyConnectorRaise: {
    input: { required: { message: ['STRING', { default: 'ComfyConnectorRaise was asked to fail' }] }, optional: { image: ['IMAGE'] } },
    input_order: { required: ['message'], optional: ['image'] },
    is_input_list: false, output: ['IMAGE'], output_is_list: [false], output_name: ['IMAGE'],
    name: 'ComfyConnectorRaise', display_name: 'Raise (comfy-connector test)', description: '',
    python_module: `custom_nodes.${TEST_NODE_PACK}`, category: 'comfy_connector/testing', output_node: true, has_intermediate_output: false, search_aliases: [],
  },
};

let recorded: ObjectInfo | undefined;
function loadRecorded(): ObjectInfo {
  recorded ??= JSON.parse(readFileSync(existsSync(FIXTURE_OBJECT_INFO) ? FIXTURE_OBJECT_INFO : PROVISIONAL, 'utf8')) as ObjectInfo;
  return recorded;
}

export function testNodesLoaded(customNodeDirs: string[]): boolean {
  return customNodeDirs.some((d) => existsSync(join(d, TEST_NODE_PACK, '__init__.py')));
}

const IMAGE_EXT = /\.(png|jpe?g|webp|gif|bmp|tiff?)$/i;

export class Catalogue {
  readonly info: ObjectInfo;
  constructor(options: { customNodeDirs: string[]; disableCustomNodes: boolean; inputDir: string }) {
    const base = loadRecorded();
    const info: ObjectInfo = {};
    for (const [name, def] of Object.entries(base)) {
      const isCustom = def.python_module.startsWith('custom_nodes.');
      if (isCustom && (options.disableCustomNodes || def.python_module.includes(TEST_NODE_PACK))) continue;
      info[name] = def;
    }
    if (!options.disableCustomNodes && testNodesLoaded(options.customNodeDirs)) {
      for (const [name, def] of Object.entries(TEST_NODES)) info[name] = (base[name] as NodeInfo | undefined) ?? def;
    }
    this.info = info;
    this.inputDir = options.inputDir;
  }
  private readonly inputDir: string;

  has(classType: string): boolean {
    return Object.hasOwn(this.info, classType);
  }

  /** A node's info as /object_info serves it now (LoadImage lists the input folder live). */
  get(classType: string): NodeInfo {
    const def = this.info[classType]!;
    if (classType !== 'LoadImage') return def;
    const req = def.input.required ?? {};
    const opts = (req.image?.[1] ?? { image_upload: true }) as Record<string, unknown>;
    return { ...def, input: { ...def.input, required: { ...req, image: [this.inputImages(), opts] } } };
  }

  all(): ObjectInfo {
    const out: ObjectInfo = {};
    for (const name of Object.keys(this.info)) out[name] = this.get(name);
    return out;
  }

  private inputImages(): string[] {
    try {
      return readdirSync(this.inputDir).filter((f) => IMAGE_EXT.test(f) && statSync(join(this.inputDir, f)).isFile()).sort();
    } catch {
      return [];
    }
  }
}
