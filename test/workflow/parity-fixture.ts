/** Where scripts/record-oracle.ts stores the frontend's prompt for one corpus workflow, per frontend version. */
import { join, resolve } from 'node:path';
import { DEFAULT_FRONTEND_VERSION } from './corpus.js';

export function oracleFixtureDir(version: string = DEFAULT_FRONTEND_VERSION): string {
  return resolve(import.meta.dirname, '..', 'fixtures', `oracle-${version}`);
}

/** The 1.48.7 recording (regressions and the definitions every recording shares). */
export const ORACLE_FIXTURE_DIR = oracleFixtureDir(DEFAULT_FRONTEND_VERSION);

/** `<origin>__<file>`: one flat folder, names as unique as the corpus names. */
export function oracleFixtureName(corpusName: string): string {
  return corpusName.replace('/', '__');
}

export function oracleFixturePath(corpusName: string, version: string = DEFAULT_FRONTEND_VERSION): string {
  return join(oracleFixtureDir(version), 'prompts', `${oracleFixtureName(corpusName)}.json`);
}
