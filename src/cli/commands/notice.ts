import { colorEnabled, palette } from '../color.js';
import type { CliContext } from './context.js';

/** Status lines for people go to stderr, dimmed, so stdout carries only the command's answer. */
export function noticeWriter(ctx: CliContext): (text: string) => void {
  const c = palette(colorEnabled(ctx.stderr, ctx.env));
  return (text) => {
    ctx.stderr.write(`${c.dim(text)}\n`);
  };
}
