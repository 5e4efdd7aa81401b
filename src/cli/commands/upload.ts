import { basename, resolve } from 'node:path';
import { checkReadable } from '../check-files.js';
import { checkPlanFiles, connectionPlan, type ServerFlags } from '../connection.js';
import type { CliContext } from './context.js';
import { noticeWriter } from './notice.js';
import { withConnector } from './with-connector.js';
import { isUrlSource } from '../../sources/fetch.js';
import { transferProgress } from '../progress/transfer-line.js';

export interface UploadFlags extends ServerFlags {
  to: string;
  subfolder?: string;
  ephemeral?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

/**
 * `upload <files...> --to <folder>`: puts files where ComfyUI looks for them (input, or a model
 * folder such as loras) and prints, one per line, the name a workflow uses for each.
 */
export async function uploadCommand(files: string[], flags: UploadFlags, ctx: CliContext): Promise<number> {
  await checkReadable(files.filter((f) => !isUrlSource(f)), ctx.cwd, 'upload source'); // URLs are checked when fetched
  const plan = connectionPlan(flags, ctx.env, ctx.cwd);
  await checkPlanFiles(plan, ctx.cwd);
  const notice = noticeWriter(ctx);
  return withConnector(ctx, plan, notice, async (connector) => {
    if (flags.ephemeral) notice('--ephemeral: these files are removed again when this command exits (killApi).');
    const uploaded = await connector.uploadData(
      files.map((file) => ({
        source: isUrlSource(file) ? file : resolve(ctx.cwd, file),
        to: flags.to,
        ...(flags.subfolder !== undefined ? { subfolder: flags.subfolder } : {}),
        ...(flags.ephemeral ? { ephemeral: true } : {}),
        ...(flags.overwrite ? { overwrite: true } : {}),
      })),
      { onProgress: transferProgress(ctx.stderr) },
    );
    if (flags.json) {
      ctx.stdout.write(`${JSON.stringify(uploaded)}\n`);
      return 0;
    }
    uploaded.forEach((item, i) => {
      notice(`${basename(files[i] ?? '')} → ${item.folder}: ${item.name}`);
      ctx.stdout.write(`${item.name}\n`);
    });
    return 0;
  });
}
