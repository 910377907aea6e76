/** Results as JSON in bench/results/, one file per case, read back by the report. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** BENCH_RESULTS_DIR keeps a side run (e.g. a baseline before a change) apart from the published results. */
export const RESULTS_DIR = resolve(process.env['BENCH_RESULTS_DIR'] ?? resolve(import.meta.dirname, '..', 'results'));

export function writeResult(name: string, value: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}

export function readResult<T>(name: string): T | null {
  try {
    return JSON.parse(readFileSync(join(RESULTS_DIR, `${name}.json`), 'utf8')) as T;
  } catch {
    return null;
  }
}
