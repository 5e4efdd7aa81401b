import { access, constants, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FileNotReadableError, OverrideError } from '../errors.js';
import { applyOverrides, isUiWorkflow, parseWorkflowInput, type ApiPrompt, type UiWorkflow } from '../workflow/index.js';

/** Fails before any server starts when a named file is missing: a typo should cost no boot. */
export async function checkReadable(files: readonly string[], cwd: string, role: string): Promise<void> {
  for (const file of files) {
    try {
      await access(resolve(cwd, file), constants.R_OK);
    } catch (error) {
      throw FileNotReadableError.from(file, role, error);
    }
  }
}

/**
 * Everything about `run`'s files that needs no server, checked before the boot with the errors the
 * run itself would give (same code, same exit code): each file reads and is a workflow or a prompt,
 * and every --set/--input key names a node of it. An API prompt gets the full check (node and
 * input); a UI workflow's input names need the server's node definitions, so only its node part is
 * checked here. The message names the file.
 */
export async function checkWorkflowFiles(files: readonly string[], cwd: string, keys: { overrides: Record<string, unknown>; inputs: Record<string, string> }): Promise<void> {
  for (const file of files) {
    try {
      let text: string;
      try {
        text = await readFile(resolve(cwd, file), 'utf8');
      } catch (error) {
        throw FileNotReadableError.from(file, 'workflow', error);
      }
      const parsed = parseWorkflowInput(text);
      if (isUiWorkflow(parsed)) {
        for (const key of [...Object.keys(keys.overrides), ...Object.keys(keys.inputs)]) checkUiKey(parsed, key);
      } else {
        // The same calls, in the same order, as ComfyConnector.runWorkflow makes after the boot.
        const prompt = applyOverrides(parsed as ApiPrompt, keys.overrides);
        applyOverrides(prompt, Object.fromEntries(Object.keys(keys.inputs).map((key) => [key, ''])));
      }
    } catch (error) {
      if (error instanceof Error && !(error instanceof FileNotReadableError)) error.message = `${file}: ${error.message}`;
      throw error;
    }
  }
}

/**
 * A key's node part must be a node id, title or type of the workflow (any split at a dot, as
 * applyOverrides tries them). The one form that cannot be checked offline is an untitled node's
 * display title ("Load Checkpoint" for CheckpointLoaderSimple), which only the server knows: a
 * node part that shares a word with the type of an untitled node is left to the run.
 */
function checkUiKey(workflow: UiWorkflow, key: string): void {
  const nodes = allNodes(workflow);
  const names = new Set<string>();
  for (const node of nodes) {
    names.add(String(node.id));
    names.add(String(node.type));
    if (typeof node.title === 'string') names.add(node.title);
  }
  for (const subgraph of (workflow.definitions?.subgraphs ?? []) as Array<{ name?: unknown }>) {
    if (typeof subgraph.name === 'string') names.add(subgraph.name);
  }
  const untitledTypes = nodes.filter((node) => typeof node.title !== 'string').map((node) => String(node.type));
  for (let dot = key.lastIndexOf('.'); dot > 0; dot = key.lastIndexOf('.', dot - 1)) {
    const ref = key.slice(0, dot);
    if (names.has(ref)) return;
    // Nodes inside subgraphs get ids like "12:5" when converted.
    if (/^\d+(:\d+)+$/.test(ref)) return;
    if (untitledTypes.some((type) => sharesWord(ref, type))) return;
  }
  const ref = key.slice(0, Math.max(key.lastIndexOf('.'), 0));
  throw new OverrideError(key, `no node has the id, title or type "${ref}".`);
}

type LooseNode = { id: unknown; type: unknown; title?: unknown };

function allNodes(workflow: UiWorkflow): LooseNode[] {
  const lists: unknown[] = [workflow.nodes];
  for (const subgraph of (workflow.definitions?.subgraphs ?? []) as Array<{ nodes?: unknown }>) lists.push(subgraph.nodes);
  const groups = (workflow.extra as { groupNodes?: Record<string, { nodes?: unknown }> } | undefined)?.groupNodes;
  for (const group of Object.values(groups ?? {})) lists.push(group?.nodes);
  return lists.flatMap((list) => (Array.isArray(list) ? list : [])).filter((node): node is LooseNode => !!node && typeof node === 'object' && 'type' in node);
}

function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length >= 3);
}

function sharesWord(a: string, b: string): boolean {
  const right = words(b);
  return words(a).some((x) => right.some((y) => x.startsWith(y) || y.startsWith(x)));
}
