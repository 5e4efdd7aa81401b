/** The workflow module: formats, node definitions, native conversion and overrides. */
export type { ApiPrompt, ApiPromptNode, ConvertOptions, InputSpec, NodeDefinition, ObjectInfo, UiNode, UiWorkflow } from './types.js';
export { isApiPrompt, isUiWorkflow, parseWorkflowInput, type ParsedWorkflowInput } from './formats.js';
export { DefinitionsCache, NodeDefinitions, type ClassInfo, type DefinitionsLoader } from './definitions.js';
export type { SocketSpec, WidgetSpec } from './widget-specs.js';
export { convertWorkflow, bypassInputSlot } from './convert.js';
export { applyOverrides, findOverrideTarget, type ApplyOverridesOptions } from './overrides.js';
export { processDynamicPrompt, applyTextReplacements, formatDate } from './text-transforms.js';
export { isValidConnection } from './type-match.js';
