export interface Skip { name: string; kind: 'test' | 'suite'; reason: string }
export interface TapSummary {
  passed: number; failed: number; cancelled: number;
  skippedTests: number; skippedSuites: number; skipped: number;
  skips: Skip[];
}
export function summariseTap(tap: string): TapSummary;
export function closingLines(summary: TapSummary): string[];
