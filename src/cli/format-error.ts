import { errorCode } from './exit-codes.js';
import { stripAnsi, type Palette } from './color.js';

/** Enough to show the traceback and what led to it, short enough to read. */
export const LOG_TAIL_LINES = 30;

/**
 * One readable paragraph per failure: the code first (what scripts and issue reports quote), then
 * the error's own message, which already names the node, the input and what to do.
 * With `logTail` (from --verbose) the last ComfyUI log lines follow.
 */
export function formatError(error: unknown, colors: Palette, options: { label?: string; logTail?: readonly string[]; verbose?: boolean } = {}): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const head = `${options.label ? `${options.label}: ` : ''}${code ?? 'unexpected error'}`;
  const lines = [`${colors.red(colors.bold('error'))} ${colors.bold(head)}`, ...message.trimEnd().split('\n').map((line) => `  ${line}`)];
  if (code === undefined && error instanceof Error && options.verbose && error.stack) {
    lines.push(...error.stack.split('\n').slice(1).map((line) => colors.dim(`  ${line.trim()}`)));
  }
  if (code === undefined) lines.push(colors.dim('  This looks like a bug in comfy-connector; please report it with the command you ran.'));
  if (options.logTail?.length) {
    lines.push(colors.dim('  ComfyUI log (last lines):'));
    lines.push(...options.logTail.slice(-LOG_TAIL_LINES).map((line) => colors.dim(`    ${stripAnsi(line)}`)));
  }
  return lines.join('\n');
}

/** The run ended because we cancelled it (Ctrl-C, SIGTERM), not because something broke. */
export function isCancellation(error: unknown): boolean {
  return errorCode(error) === 'COMFY_CANCELLED';
}
