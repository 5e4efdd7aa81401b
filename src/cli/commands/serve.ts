import { ServerCrashedError, type ProcessExitInfo } from '../../errors.js';
import { checkPlanFiles, connectionPlan, type ServerFlags } from '../connection.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { UsageError } from '../usage-error.js';
import type { CliContext } from './context.js';
import { noticeWriter } from './notice.js';
import { withConnector } from './with-connector.js';

/**
 * `serve`: starts a managed ComfyUI, prints its URL on stdout, and keeps it until Ctrl-C or
 * SIGTERM (exit 0 after a clean stop) or until it dies (exit 6, with the crash report).
 */
export async function serveCommand(flags: ServerFlags, ctx: CliContext, report: (error: unknown) => void): Promise<number> {
  if (flags.url !== undefined) throw new UsageError('serve starts a managed ComfyUI; --url names one that already runs.', 'Drop --url.');
  const plan = connectionPlan(flags, ctx.env, ctx.cwd);
  await checkPlanFiles(plan, ctx.cwd);
  const notice = noticeWriter(ctx);
  return withConnector(ctx, plan, notice, async (connector) => {
    const crashed = new Promise<ProcessExitInfo>((resolve) => {
      connector.server?.on('exit', (info, expected) => {
        if (!expected) resolve(info);
      });
    });
    ctx.stdout.write(`${connector.url}\n`);
    notice('ComfyUI is serving; press Ctrl-C to stop it.');
    const outcome = await Promise.race([ctx.session.waitForSignal(), crashed]);
    if (typeof outcome === 'string') {
      notice('stopping ComfyUI…');
      return EXIT.ok;
    }
    const error = new ServerCrashedError(outcome);
    report(error);
    return exitCodeFor(error);
  });
}
