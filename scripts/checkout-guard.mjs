// A user's ComfyUI must look the same after our tests as before. With COMFYUI_PATH set, the test
// runner lists the checkout's files before and after the run and fails the run over any file a
// test added or removed, and over any folder (an empty folder left behind counts: listed with a
// trailing slash). Python's own caches (__pycache__) and .git are not ours to judge.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const IGNORED = new Set(['.git', '__pycache__']);

function listFiles(root, dir = root, found = new Set()) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (IGNORED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      found.add(`${relative(root, path)}/`);
      listFiles(root, path, found);
    } else found.add(relative(root, path));
  }
  return found;
}

/** Call before the tests; `check()` after them returns the lines to report (empty: unchanged). */
export function guardCheckout(checkout) {
  if (!checkout || !existsSync(checkout)) return { check: () => [] };
  const before = listFiles(checkout);
  return {
    check() {
      const after = listFiles(checkout);
      const added = [...after].filter((f) => !before.has(f)).sort();
      const removed = [...before].filter((f) => !after.has(f)).sort();
      if (!added.length && !removed.length) return [];
      return [
        `The tests changed the ComfyUI checkout at ${checkout} (COMFYUI_PATH); give them their own folders (--base-directory, inputDirectory/outputDirectory) or remove what they make:`,
        ...added.map((f) => `  added   ${f}`),
        ...removed.map((f) => `  removed ${f}`),
      ];
    },
  };
}
