/** Where scripts/record-oracle.ts stores the frontend's prompt for one corpus workflow. */
import { join, resolve } from 'node:path';

export const ORACLE_FIXTURE_DIR = resolve(import.meta.dirname, '..', 'fixtures', 'oracle-1.48.7');

/** `<origin>__<file>`: one flat folder, names as unique as the corpus names. */
export function oracleFixtureName(corpusName: string): string {
  return corpusName.replace('/', '__');
}

export function oracleFixturePath(corpusName: string): string {
  return join(ORACLE_FIXTURE_DIR, 'prompts', `${oracleFixtureName(corpusName)}.json`);
}
