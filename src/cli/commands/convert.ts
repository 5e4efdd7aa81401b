import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ObjectInfo } from '../../workflow/index.js';
import { checkReadable } from '../check-files.js';
import { checkPlanFiles, connectionPlan, type ServerFlags } from '../connection.js';
import { UsageError } from '../usage-error.js';
import type { CliContext } from './context.js';
import { noticeWriter } from './notice.js';
import { withConnector } from './with-connector.js';

export interface ConvertFlags extends ServerFlags {
  definitions?: string;
  browser?: boolean;
}

/**
 * `convert <workflow.json>`: the API prompt on stdout. Offline from an /object_info file
 * (--definitions), or with the definitions of a running (--url) or managed server; --browser asks
 * the real frontend instead of the native converter.
 */
export async function convertCommand(file: string, flags: ConvertFlags, ctx: CliContext): Promise<number> {
  await checkReadable([file], ctx.cwd, 'workflow');
  const path = resolve(ctx.cwd, file);
  if (flags.definitions !== undefined) {
    if (flags.browser) throw new UsageError('--browser needs a server; --definitions converts offline.', 'Drop one of the two.');
    if (flags.url !== undefined || flags.comfyui !== undefined) {
      throw new UsageError('--definitions converts offline, without a server.', 'Drop --url/--comfyui, or drop --definitions to use that server\'s node definitions.');
    }
    const prompt = await convertOffline(path, resolve(ctx.cwd, flags.definitions), ctx);
    ctx.stdout.write(`${JSON.stringify(prompt, null, 2)}\n`);
    return 0;
  }
  const plan = connectionPlan(flags, ctx.env, ctx.cwd);
  await checkPlanFiles(plan, ctx.cwd);
  return withConnector(ctx, plan, noticeWriter(ctx), async (connector) => {
    const prompt = await connector.getPromptFromWorkflow(path, { mode: flags.browser ? 'browser' : 'native' });
    ctx.stdout.write(`${JSON.stringify(prompt, null, 2)}\n`);
    return 0;
  });
}

async function convertOffline(workflowPath: string, definitionsPath: string, ctx: CliContext): Promise<unknown> {
  await checkReadable([definitionsPath], ctx.cwd, '--definitions');
  let objectInfo: unknown;
  try {
    objectInfo = JSON.parse(await readFile(definitionsPath, 'utf8'));
  } catch (error) {
    throw new UsageError(`--definitions ${JSON.stringify(definitionsPath)} is not JSON: ${(error as Error).message}`, 'Save the body of GET /object_info from the ComfyUI you will run on.');
  }
  // Loaded lazily: the converter is only needed here.
  const workflow = await import('../../workflow/index.js');
  const parsed = workflow.parseWorkflowInput(await readFile(workflowPath, 'utf8'));
  if (workflow.isApiPrompt(parsed)) return parsed;
  return workflow.convertWorkflow(parsed, new workflow.NodeDefinitions(objectInfo as ObjectInfo));
}
