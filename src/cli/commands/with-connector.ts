import type { ComfyConnector } from '../facade-types.js';
import { describePlan, openConnector, type ConnectionPlan } from '../connection.js';
import type { CliContext } from './context.js';

/**
 * Opens the connector for one command, runs `body`, and always closes it (killApi), so no command
 * can leave a server behind. A signal during the boot or the body ends with the signal's exit code.
 */
export async function withConnector(
  ctx: CliContext,
  plan: ConnectionPlan,
  notice: (text: string) => void,
  body: (connector: ComfyConnector) => Promise<number>,
): Promise<number> {
  try {
    notice(describePlan(plan));
    let connector: ComfyConnector;
    try {
      connector = await ctx.session.open(() => openConnector(plan));
    } catch (error) {
      if (ctx.session.cancelled) return ctx.session.cancelExitCode;
      throw error;
    }
    if (ctx.session.cancelled) return ctx.session.cancelExitCode;
    try {
      return await body(connector);
    } catch (error) {
      if (ctx.session.cancelled) return ctx.session.cancelExitCode;
      throw error;
    }
  } finally {
    await ctx.session.close();
  }
}
