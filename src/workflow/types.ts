/**
 * The shapes the workflow module reads and writes. Only the fields conversion needs are typed;
 * everything else in a workflow passes through untouched.
 */

/** One entry of an API prompt: what POST /prompt takes per node. */
export interface ApiPromptNode {
  inputs: Record<string, unknown>;
  class_type: string;
  /** `{title}`; frontend 1.58 adds the node pack's `cnr_id`, `aux_id`, `ver`. */
  _meta?: { title: string; cnr_id?: string; aux_id?: string; ver?: string };
}

/** The API format ("Export (API)"): node id → entry. Subgraph interiors use ids like `12:5`. */
export type ApiPrompt = Record<string, ApiPromptNode>;

/** One input slot as a UI workflow saves it. */
export interface UiNodeInput {
  name: string;
  type?: string | number;
  link?: number | string | null;
  widget?: { name: string };
  label?: string;
  [key: string]: unknown;
}

export interface UiNodeOutput {
  name?: string;
  type?: string | number;
  links?: Array<number | string> | null;
  [key: string]: unknown;
}

/** One node as a UI workflow saves it. */
export interface UiNode {
  id: number | string;
  type: string;
  mode?: number;
  title?: string;
  inputs?: UiNodeInput[];
  outputs?: UiNodeOutput[];
  widgets_values?: unknown[] | Record<string, unknown>;
  properties?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A link in schema 0.4 array form: [id, origin_id, origin_slot, target_id, target_slot, type]. */
export type UiLinkArray = [number | string, number | string, number, number | string, number, unknown];

/** A link in schema 1 / subgraph object form. */
export interface UiLinkObject {
  id: number | string;
  origin_id: number | string;
  origin_slot: number;
  target_id: number | string;
  target_slot: number;
  type?: unknown;
}

export interface UiSubgraphSlot {
  name: string;
  type?: string;
  linkIds?: Array<number | string>;
  [key: string]: unknown;
}

/** One entry of `definitions.subgraphs`. */
export interface UiSubgraphDefinition {
  id: string;
  name?: string;
  nodes: UiNode[];
  links?: Array<UiLinkObject | UiLinkArray>;
  inputs?: UiSubgraphSlot[];
  outputs?: UiSubgraphSlot[];
  [key: string]: unknown;
}

/** The UI format ("Save" / "Export"), schema 0.4 or 1. */
export interface UiWorkflow {
  nodes: UiNode[];
  links?: Array<UiLinkArray | UiLinkObject>;
  version?: number;
  last_node_id?: number;
  state?: { lastNodeId?: number; [key: string]: unknown };
  definitions?: { subgraphs?: UiSubgraphDefinition[] };
  extra?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One input spec of /object_info: `[type, options?]`, where type is a string or (legacy combo) a list. */
export type InputSpec = [unknown, Record<string, unknown>?] | unknown[];

/** One node class of /object_info. */
export interface NodeDefinition {
  input?: {
    required?: Record<string, InputSpec>;
    optional?: Record<string, InputSpec>;
    hidden?: Record<string, unknown>;
  };
  input_order?: { required?: string[]; optional?: string[]; hidden?: string[] };
  output?: unknown[];
  output_name?: string[];
  name?: string;
  display_name?: string;
  output_node?: boolean;
  python_module?: string;
  [key: string]: unknown;
}

/** The whole /object_info answer: class name → definition. */
export type ObjectInfo = Record<string, NodeDefinition>;

/** Injectable randomness and clock, so dynamic prompts and `%date:…%` are reproducible. */
export interface ConvertOptions {
  /** Replaces Math.random for `{a|b|c}` choices. */
  random?: () => number;
  /** Replaces `new Date()` for `%date:…%`. */
  now?: () => Date;
  /**
   * The frontend version whose prompt to reproduce (its `_meta`: titles, pack identity); the
   * connector reads it from the server. Default 1.48.7 (ComfyUI v0.33.0's). See frontend-version.ts.
   */
  frontendVersion?: string;
}
