// Reads node:test's TAP output into the counts the runner's closing line gives. node's own
// `# skipped N` counts skipped tests only: a skipped describe() is one `ok … # SKIP` line whose
// block says `type: 'suite'`, and its tests are never registered, so a whole skipped suite would
// add 0. Here every skip is collected from the result lines themselves, suites included, with its
// reason, and a cancelled test (its file or hook failed before it ran) counts as failed.

const RESULT = /^( *)(not ok|ok) \d+ - (.*)$/;
const DIRECTIVE = / # (SKIP|TODO)\b ?(.*)$/i;

/** Undoes TAP's escaping of `#` and `\` in names and reasons. */
function unescape(text) {
  return text.replace(/\\([#\\])/g, '$1');
}

/**
 * @param {string} tap the whole TAP stream
 * @returns {{ passed: number, failed: number, cancelled: number, skippedTests: number, skippedSuites: number,
 *   skipped: number, skips: Array<{ name: string, kind: 'test' | 'suite', reason: string }> }}
 */
export function summariseTap(tap) {
  const lines = tap.split('\n');
  const count = (key) => Number(tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  /** Names of the open `# Subtest:` at each indentation, to name a skip by its path. */
  const open = [];
  const skips = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const subtest = /^( *)# Subtest: (.*)$/.exec(line);
    if (subtest) {
      const depth = subtest[1].length / 4;
      open.length = depth;
      open[depth] = subtest[2];
      continue;
    }
    const result = RESULT.exec(line);
    if (!result) continue;
    const depth = result[1].length / 4;
    const directive = DIRECTIVE.exec(result[3]);
    if (!directive || directive[1].toUpperCase() !== 'SKIP') continue;
    // The YAML block right after the result line says whether this was a suite.
    let kind = 'test';
    for (let j = i + 1; j < lines.length && lines[j].startsWith(`${result[1]}  `); j++) {
      if (lines[j].trim() === "type: 'suite'") kind = 'suite';
    }
    const name = unescape(result[3].slice(0, directive.index));
    const path = [...open.slice(0, depth).filter((n) => n !== undefined), name].join(' › ');
    skips.push({ name: path, kind, reason: unescape(directive[2]).trim() || '(no reason given)' });
  }
  const skippedSuites = skips.filter((s) => s.kind === 'suite').length;
  const skippedTests = count('skipped');
  const cancelled = count('cancelled');
  return {
    passed: count('pass'),
    failed: count('fail') + cancelled,
    cancelled,
    skippedTests,
    skippedSuites,
    skipped: skippedTests + skippedSuites,
    skips,
  };
}

/** The lines the runner prints last; the final one is exactly `N passed, N failed, N skipped`. */
export function closingLines(summary) {
  const out = [];
  if (summary.skips.length > 0) {
    // Same reason, same line: "3× COMFYUI_PATH/COMFYUI_PYTHON not set …" reads better than 3 lines.
    const byReason = new Map();
    for (const s of summary.skips) {
      const list = byReason.get(s.reason) ?? [];
      list.push(s);
      byReason.set(s.reason, list);
    }
    out.push('skipped, and why:');
    for (const [reason, list] of byReason) {
      out.push(`  ${reason}`);
      for (const s of list) out.push(`    - ${s.kind === 'suite' ? 'suite ' : ''}${s.name}`);
    }
  }
  if (summary.cancelled > 0) out.push(`${summary.cancelled} cancelled (counted as failed)`);
  out.push(`${summary.skippedSuites} suites skipped whole (each counted as 1 skipped; their tests are not listed), ${summary.skippedTests} tests skipped`);
  out.push(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  return out;
}
