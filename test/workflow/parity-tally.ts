/** One native-vs-oracle comparison per workflow, tallied the same way by every parity suite. */
import { convertWorkflow, type UiWorkflow } from '../../src/workflow/index.js';
import { parityConvertOptions } from './corpus.js';
import { diffPrompts, formatDifference, realDifferences, runtimeOnlyInputs } from './parity-compare.js';
import { splitKnownDifferences } from './known-differences.js';

export class ParityTally {
  equal = 0;
  /** Equal apart from entries of test/workflow/known-differences.ts. */
  knownOnly = 0;
  readonly mismatches: string[] = [];
  readonly nativeFailures: string[] = [];
  readonly knownDifferences: string[] = [];
  /** Workflows with runtime-only inputs (Load3D, webcam...), which are not compared. */
  readonly runtimeOnly: string[] = [];
  readonly #runtimeInputs: Set<string>;

  constructor(readonly definitions: Record<string, unknown>, readonly frontendVersion: string = '1.48.7') {
    this.#runtimeInputs = runtimeOnlyInputs(definitions);
  }

  get runtimeInputs(): Set<string> {
    return this.#runtimeInputs;
  }

  compare(entry: { name: string; workflow: unknown }, oracle: Record<string, unknown>): void {
    let native: Record<string, unknown>;
    try {
      native = convertWorkflow(entry.workflow as UiWorkflow, this.definitions, { ...parityConvertOptions(), frontendVersion: this.frontendVersion });
    } catch (error) {
      this.nativeFailures.push(`${entry.name}: ${(error as Error).message.split('\n')[0]}`);
      return;
    }
    const all = diffPrompts(native, oracle, this.#runtimeInputs);
    const { known, unexplained: differences } = splitKnownDifferences(entry.name, realDifferences(all), this.frontendVersion);
    for (const d of known) this.knownDifferences.push(`${entry.name}: ${formatDifference(d)}`);
    const runtime = all.filter((d) => d.runtimeOnly);
    if (runtime.length) this.runtimeOnly.push(`${entry.name}: ${runtime.map((d) => `${d.node}.${d.where.slice(7)}`).join(', ')}`);
    if (differences.length === 0) {
      if (known.length) this.knownOnly++;
      else this.equal++;
      return;
    }
    this.mismatches.push(
      `${entry.name} (${differences.length} difference${differences.length > 1 ? 's' : ''})\n${differences
        .slice(0, 6)
        .map((d) => `    ${formatDifference(d)}`)
        .join('\n')}`,
    );
  }
}
