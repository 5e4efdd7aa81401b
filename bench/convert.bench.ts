/**
 * Native conversion speed over the real corpus (ComfyUI_examples workflows and pairs, and every
 * shipped template). Run directly: `node --import tsx bench/convert.bench.ts`.
 * The browser helper reuses listBenchWorkflows() to time browser mode on the same set.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { convertWorkflow, NodeDefinitions, SUPPORTED_FRONTEND_VERSIONS, type UiWorkflow } from '../src/workflow/index.js';
import { findDefinitionsFile, loadCorpus, type CorpusEntry } from '../test/workflow/corpus.js';

export interface BenchWorkflows {
  definitions: NodeDefinitions;
  workflows: CorpusEntry[];
  skipped: number;
}

/** The corpus workflows the definitions can convert, with those definitions (layouts precomputed). */
export function listBenchWorkflows(): BenchWorkflows {
  const file = findDefinitionsFile();
  if (!file) throw new Error('No /object_info to convert with: record test/fixtures/comfyui-0.33.0/object_info.json or set COMFY_OBJECT_INFO.');
  const definitions = NodeDefinitions.fromFile(file).precompute();
  const corpus = loadCorpus(definitions.objectInfo);
  return { definitions, workflows: corpus.usable, skipped: corpus.skipped.length };
}

export interface ConvertBenchResult {
  workflows: number;
  skipped: number;
  runsPerWorkflow: number;
  /** Over every timed conversion, in ms. */
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  /** The slowest workflow by its median. */
  slowest: { name: string; medianMs: number; nodes: number };
  /** Building every class layout once (what the first conversion would otherwise pay). */
  precomputeMs: number;
  /** The same corpus converted following each frontend version (frontendVersion option), medians in ms. */
  byVersion: Array<{ version: string; medianMs: number; p99Ms: number }>;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export function benchConvert(runsPerWorkflow = 10): ConvertBenchResult {
  const file = findDefinitionsFile();
  const t0 = performance.now();
  if (file) NodeDefinitions.fromFile(file).precompute();
  const precomputeMs = performance.now() - t0;
  const { definitions, workflows, skipped } = listBenchWorkflows();
  const all: number[] = [];
  let slowest = { name: '', medianMs: -1, nodes: 0 };
  for (const entry of workflows) {
    const workflow = entry.workflow as UiWorkflow;
    convertWorkflow(workflow, definitions, { random: () => 0.5 }); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < runsPerWorkflow; i++) {
      const start = performance.now();
      convertWorkflow(workflow, definitions, { random: () => 0.5 });
      samples.push(performance.now() - start);
    }
    samples.sort((a, b) => a - b);
    all.push(...samples);
    const median = quantile(samples, 0.5);
    if (median > slowest.medianMs) slowest = { name: entry.name, medianMs: median, nodes: workflow.nodes.length };
  }
  all.sort((a, b) => a - b);
  const byVersion = SUPPORTED_FRONTEND_VERSIONS.map((version) => {
    const samples: number[] = [];
    for (const entry of workflows) {
      for (let i = 0; i < Math.max(1, Math.floor(runsPerWorkflow / 2)); i++) {
        const start = performance.now();
        convertWorkflow(entry.workflow as UiWorkflow, definitions, { random: () => 0.5, frontendVersion: version });
        samples.push(performance.now() - start);
      }
    }
    samples.sort((a, b) => a - b);
    return { version, medianMs: quantile(samples, 0.5), p99Ms: quantile(samples, 0.99) };
  });
  return {
    workflows: workflows.length, skipped, runsPerWorkflow,
    medianMs: quantile(all, 0.5), p99Ms: quantile(all, 0.99), maxMs: all.at(-1) ?? NaN,
    slowest, precomputeMs, byVersion,
  };
}

export function reportConvert(r: ConvertBenchResult): void {
  console.log(`native convert: ${r.workflows} workflows × ${r.runsPerWorkflow} runs (${r.skipped} skipped for missing node types)`);
  console.log(`  median ${r.medianMs.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms, max ${r.maxMs.toFixed(3)} ms`);
  console.log(`  slowest: ${r.slowest.name} (${r.slowest.nodes} root nodes) median ${r.slowest.medianMs.toFixed(3)} ms`);
  console.log(`  precomputing all class layouts once: ${r.precomputeMs.toFixed(1)} ms`);
  for (const v of r.byVersion) console.log(`  following frontend ${v.version}: median ${v.medianMs.toFixed(3)} ms, p99 ${v.p99Ms.toFixed(3)} ms`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) reportConvert(benchConvert());
