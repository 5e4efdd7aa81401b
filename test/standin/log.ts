// ComfyUI's log format: one record per line, `%(message)s` behind an ANSI-coloured level tag.
// INFO/WARNING go to stderr, or to stdout with --log-stdout; ERROR always goes to stderr.
const TAGS = {
  DEBUG: '\x1b[36m[DEBUG]\x1b[0m ',
  INFO: '\x1b[32m[INFO]\x1b[0m ',
  WARNING: '\x1b[33m[WARNING]\x1b[0m ',
  ERROR: '\x1b[1m\x1b[31m[ERROR]\x1b[0m ',
} as const;
type Level = keyof typeof TAGS;

let toStdout = false;
let verbose = false;
const ring: Array<{ t: string; m: string }> = [];

export function configureLog(options: { logStdout: boolean; verbose: boolean }): void {
  toStdout = options.logStdout;
  verbose = options.verbose;
}

function write(level: Level, message: string): void {
  if (level === 'DEBUG' && !verbose) return;
  const line = `${TAGS[level]}${message}\n`;
  // /internal/logs keeps the coloured line and a naive local ISO time, like ComfyUI's LogInterceptor.
  ring.push({ t: new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().replace('Z', '000'), m: line });
  if (ring.length > 300) ring.shift();
  if (toStdout && level !== 'ERROR') process.stdout.write(line);
  else process.stderr.write(line);
}

export const log = {
  debug: (m: string) => write('DEBUG', m),
  info: (m: string) => write('INFO', m),
  warning: (m: string) => write('WARNING', m),
  error: (m: string) => write('ERROR', m),
};

/** The /internal/logs ring. */
export function logEntries(): Array<{ t: string; m: string }> {
  return ring.slice();
}
