/**
 * Browser conversion (the real frontend in chromium) against native conversion, on the same corpus
 * workflows in the same run:
 *   warm:  one BrowserConverter, one conversion after another (what `mode: 'browser'` costs per call);
 *   fresh: a new chromium per call, boot included (the reference system's way), on a handful;
 *   native: convertWorkflow on the same workflows and definitions.
 * The server is the stand-in serving the frontend package (BENCH_URL=<ComfyUI url> to use another).
 * Run directly: node --import tsx bench/browser.bench.ts   (BENCH_WORKFLOWS=N, BENCH_FRESH=N)
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { BrowserConverter } from '../src/workflow/browser.js';
import { convertWorkflow, NodeDefinitions, type UiWorkflow } from '../src/workflow/index.js';
import { loadCorpus, parityConvertOptions, type CorpusEntry } from '../test/workflow/corpus.js';
import { fetchObjectInfo, oracleUnavailable, startOracleServer } from '../test/workflow/oracle-server.js';

export interface BrowserBenchResult {
  server: string;
  workflows: number;
  /** Median ms per conversion on a warm browser. */
  warmMedianMs: number;
  /** Median ms per conversion when each call launches and boots its own chromium. */
  freshMedianMs: number;
  freshWorkflows: number;
  /** Launch + frontend boot of the warm converter, once. */
  bootMs: number;
  /** Median ms of native conversion on the same workflows. */
  nativeMedianMs: number;
  /** warm / native and fresh / native. */
  warmRatio: number;
  freshRatio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Every n-th workflow, so small, large and subgraph-heavy ones are all in the sample. */
function spread<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items;
  const step = items.length / count;
  return Array.from({ length: count }, (_, i) => items[Math.floor(i * step)]!);
}

export async function benchBrowser(options: { workflows?: number; fresh?: number; url?: string } = {}): Promise<BrowserBenchResult> {
  const why = options.url ? undefined : oracleUnavailable();
  if (why) throw new Error(why);
  const server = options.url ? undefined : await startOracleServer();
  const url = options.url ?? server!.url;
  const converter = new BrowserConverter({ url });
  try {
    const objectInfo = await fetchObjectInfo(url);
    const definitions = NodeDefinitions.from(objectInfo);
    const corpus = loadCorpus(objectInfo);
    const sample: CorpusEntry[] = spread(corpus.usable, options.workflows ?? 40);

    const { bootMs } = await converter.start();
    await converter.convert(sample[0]!.workflow, parityConvertOptions()); // first call warms the page's code paths
    const warm: number[] = [];
    for (const entry of sample) {
      const start = performance.now();
      await converter.convert(entry.workflow, parityConvertOptions());
      warm.push(performance.now() - start);
    }

    const native: number[] = [];
    for (const entry of sample) {
      convertWorkflow(entry.workflow as UiWorkflow, definitions, parityConvertOptions()); // warm-up
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        convertWorkflow(entry.workflow as UiWorkflow, definitions, parityConvertOptions());
        native.push(performance.now() - start);
      }
    }

    const freshSample = spread(sample, options.fresh ?? 5);
    const fresh: number[] = [];
    for (const entry of freshSample) {
      const start = performance.now();
      const once = new BrowserConverter({ url });
      try {
        await once.convert(entry.workflow, parityConvertOptions());
      } finally {
        await once.close();
      }
      fresh.push(performance.now() - start);
    }

    const warmMedianMs = median(warm);
    const freshMedianMs = median(fresh);
    const nativeMedianMs = median(native);
    return {
      server: server ? 'stand-in + frontend 1.48.7' : url,
      workflows: sample.length,
      warmMedianMs,
      freshMedianMs,
      freshWorkflows: freshSample.length,
      bootMs,
      nativeMedianMs,
      warmRatio: warmMedianMs / nativeMedianMs,
      freshRatio: freshMedianMs / nativeMedianMs,
    };
  } finally {
    await converter.close();
    await server?.stop();
  }
}

export function reportBrowser(r: BrowserBenchResult): void {
  console.log(`browser vs native conversion (${r.server}), ${r.workflows} corpus workflows`);
  console.log(`  browser, warm:            median ${r.warmMedianMs.toFixed(1)} ms per workflow (boot once: ${Math.round(r.bootMs)} ms)`);
  console.log(`  browser, fresh per call:  median ${r.freshMedianMs.toFixed(0)} ms per workflow (${r.freshWorkflows} workflows)`);
  console.log(`  native:                   median ${r.nativeMedianMs.toFixed(3)} ms per workflow`);
  console.log(`  native is ${r.warmRatio.toFixed(0)}x faster than warm browser, ${r.freshRatio.toFixed(0)}x faster than fresh browser`);
}

export function browserBenchOptions(): { workflows: number; fresh: number; url?: string } {
  return {
    workflows: Number(process.env.BENCH_WORKFLOWS ?? 40),
    fresh: Number(process.env.BENCH_FRESH ?? 5),
    ...(process.env.BENCH_URL ? { url: process.env.BENCH_URL } : {}),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) reportBrowser(await benchBrowser(browserBenchOptions()));
