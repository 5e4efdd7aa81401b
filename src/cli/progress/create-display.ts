import { colorEnabled, palette } from '../color.js';
import type { RunDisplay, TextStream } from './display.js';
import { JsonDisplay } from './json-display.js';
import { LineDisplay } from './line-display.js';
import { LiveDisplay } from './live-display.js';

export type DisplayMode = 'live' | 'lines' | 'json';

/** --json wins; a live display needs a terminal on both streams; otherwise plain lines. */
export function chooseDisplayMode(flags: { json?: boolean; progress?: boolean }, stdout: TextStream, stderr: TextStream): DisplayMode {
  if (flags.json) return 'json';
  if (flags.progress === false || !stdout.isTTY || !stderr.isTTY) return 'lines';
  return 'live';
}

export function createDisplay(mode: DisplayMode, io: { stdout: TextStream; stderr: TextStream; env: NodeJS.ProcessEnv; verbose?: boolean }): RunDisplay {
  const colors = palette(colorEnabled(io.stderr, io.env));
  const common = { stdout: io.stdout, stderr: io.stderr, colors, verbose: io.verbose ?? false };
  switch (mode) {
    case 'json':
      return new JsonDisplay(io);
    case 'live':
      return new LiveDisplay(common);
    default:
      return new LineDisplay(common);
  }
}
