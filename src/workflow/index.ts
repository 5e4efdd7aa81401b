/** The workflow module: formats, node definitions, native conversion and overrides. */
export type { ApiPrompt, ApiPromptNode, ConvertOptions, InputSpec, NodeDefinition, ObjectInfo, UiNode, UiWorkflow } from './types.js';
export { isApiPrompt, isUiWorkflow, parseWorkflowInput } from './formats.js';
export { DefinitionsCache, NodeDefinitions, type ClassInfo, type DefinitionsLoader } from './definitions.js';
export type { SocketSpec, WidgetSpec } from './widget-specs.js';
export { convertWorkflow, bypassInputSlot } from './convert.js';
export { detectFrontendVersion, frontendProfile, SUPPORTED_FRONTEND_VERSIONS, DEFAULT_FRONTEND_VERSION, type FrontendProfile } from './frontend-version.js';
export { applyOverrides, findOverrideTarget, type ApplyOverridesOptions } from './overrides.js';
export { processDynamicPrompt, applyTextReplacements, formatDate } from './text-transforms.js';
export { isValidConnection } from './type-match.js';
// The browser converter (src/workflow/browser.ts) drives the real frontend in Chromium.
export { BrowserConverter, findChromium, DEFAULT_CHROMIUM_PATH, type BrowserConverterOptions } from './browser.js';
export { advanceControlWidgets, workflowForIteration, randomizeSeeds, nextNumberValue, nextComboValue, numberTarget, type AdvanceOptions, type ControlMode, type NumberTarget } from './control-after-generate.js';
