/**
 * Code that runs inside the ComfyUI frontend page. Kept as source strings on purpose: tsx/esbuild
 * rewrite functions (adding helpers such as `__name`) that do not exist in the page, so passing
 * real functions to page.evaluate breaks under tsx. pageFunction() turns a source string into a
 * function that Playwright serialises verbatim (via its toString) and calls with the argument.
 */

// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the whole point: untouched source
export function pageFunction<A, R>(source: string): (argument: A) => R {
  return new Function(`return (${source});`)() as (argument: A) => R;
}

/** True once the frontend finished setup(): `window.app` is assigned only after node definitions are registered. */
export const IS_APP_READY = `() => {
  const app = window.app;
  const types = window.LiteGraph && window.LiteGraph.registered_node_types;
  return !!(app && app.rootGraph && app.canvas && typeof app.loadGraphData === 'function'
    && typeof app.graphToPrompt === 'function' && types && Object.keys(types).length > 0);
}`;

/** What the page tells about itself once ready (for diagnostics and the version check). */
export const DESCRIBE_APP = `() => ({
  frontendVersion: window.__COMFYUI_FRONTEND_VERSION__ || null,
  nodeTypes: Object.keys(window.LiteGraph.registered_node_types).length,
})`;

export interface PageConvertArgument {
  workflow: unknown;
  /** Values Math.random returns, in order, while graphToPrompt runs (dynamic prompts draw from it). */
  randoms: number[] | null;
  /** Epoch ms that Date sees while graphToPrompt runs (%date:…% in filename prefixes). */
  now: number | null;
}

export type PageConvertResult =
  | { ok: true; output: string; missing: Array<{ id: string; type: string }> }
  | { ok: false; stage: 'load' | 'prompt'; message: string };

/**
 * Installed once after boot. loadGraphData swallows its own configure errors (it shows an error
 * dialog, logs the error and returns), so an extension hook that runs only after a successful
 * configure tells success from failure.
 */
export const INSTALL_PROBE = `() => {
  if (window.__comfyConnector) return;
  window.__comfyConnector = { configured: 0, workflow: null };
  window.app.registerExtension({
    name: 'comfy-connector.oracle-probe',
    afterConfigureGraph() { window.__comfyConnector.configured++; },
  });
}`;

/**
 * Loads the workflow the way the frontend opens a file, waits two animation frames (what the
 * nodes schedule at load has run by the time a user can click), then builds the prompt the way
 * "Queue" does, minus queueing: widget control (control_after_generate) runs in queuePrompt's
 * beforeQueued/afterQueued hooks, not in graphToPrompt, so the saved values are sent.
 * Every load reuses one workflow tab: with a new temporary tab per load (the default for a null
 * workflow) the frontend keeps every tab, its draft and its thumbnail, and slows down steadily.
 */
export const CONVERT_IN_PAGE = `async ({ workflow, randoms, now }) => {
  const app = window.app;
  const state = window.__comfyConnector;
  const configuredBefore = state.configured;
  const logged = [];
  const originalError = console.error;
  console.error = (...args) => {
    for (const a of args) if (a instanceof Error) logged.push(a.stack || String(a));
    return originalError.apply(console, args);
  };
  try {
    await app.loadGraphData(workflow, true, false, state.workflow, {
      deferWarnings: true,      // no missing-nodes / missing-models dialogs
      skipAssetScans: true,     // no model and media scans against the server
      silentAssetErrors: true,
    });
  } catch (e) {
    logged.unshift((e && e.stack) || String(e));
    return { ok: false, stage: 'load', message: logged.join('\\n') };
  } finally {
    console.error = originalError;
  }
  if (state.configured === configuredBefore) {
    return { ok: false, stage: 'load', message: logged.join('\\n') || 'the graph was not configured' };
  }
  state.workflow = state.workflow || app.extensionManager.workflow.activeWorkflow || null;
  // Let the graph settle as it does before any user can press Queue or Export: nodes schedule
  // work for the next animation frame at load (COMFY_MATCHTYPE_V3 inputs start as "*" and get
  // their connected type in a requestAnimationFrame callback, dynamicWidgets.applyMatchType).
  // Without this wait the prompt depends on whether a frame happened to pass during the load.
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    requestAnimationFrame(() => requestAnimationFrame(() => { clearTimeout(timer); resolve(); }));
  });

  const RealDate = Date;
  const realRandom = Math.random;
  if (randoms) {
    let i = 0;
    Math.random = () => (i < randoms.length ? randoms[i++] : realRandom());
  }
  if (now !== null) {
    const fixed = now;
    class FixedDate extends RealDate {
      constructor(...args) { if (args.length === 0) super(fixed); else super(...args); }
      static now() { return fixed; }
    }
    window.Date = FixedDate;
  }
  let result;
  try {
    result = await app.graphToPrompt();
  } catch (e) {
    return { ok: false, stage: 'prompt', message: (e && e.stack) || String(e) };
  } finally {
    Math.random = realRandom;
    window.Date = RealDate;
  }
  const output = result.output;
  // A node whose type the server lacks becomes a placeholder without comfyClass: class_type is absent.
  const missing = [];
  for (const [id, entry] of Object.entries(output)) {
    if (entry.class_type) continue;
    const node = id.includes(':') ? null : app.rootGraph.getNodeById(Number(id));
    missing.push({ id, type: (node && (node.type || (node.last_serialization && node.last_serialization.type))) || 'unknown' });
  }
  return { ok: true, output: JSON.stringify(output), missing };
}`;
