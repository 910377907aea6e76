/**
 * Deletes recordings older than the retention period: their rows and files, and any `.cast` file
 * in the directory older than that whose row is gone (a crash between the two, or a restore).
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { recordingFileName } from './recorder.js';
import { retentionCutoff, startPeriodicSweep } from '../housekeeping/periodic-sweep.js';

/** Retention is in days; an hourly sweep deletes a file at most an hour late. */
export const RETENTION_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export interface RetentionDeps {
  readonly store: Store;
  readonly dir: string;
  readonly retentionDays: number;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** One sweep; resolves to the number of files deleted. Never rejects. */
export async function sweepRecordings(deps: RetentionDeps): Promise<number> {
  const cutoff = retentionCutoff(deps.now(), deps.retentionDays);
  let deleted = 0;
  try {
    const expired = await deps.store.pruneRecordings(cutoff);
    for (const recording of expired) if (await removeFile(join(deps.dir, recordingFileName(recording.id)), deps.logger)) deleted += 1;
    for (const name of await readdir(deps.dir)) {
      if (!name.endsWith('.cast')) continue;
      const path = join(deps.dir, name);
      const info = await stat(path).catch(() => null);
      if (info?.isFile() && info.mtimeMs < cutoff.getTime() && (await removeFile(path, deps.logger))) deleted += 1;
    }
  } catch (error) {
    deps.logger.error({ event: 'recording_sweep_failed', err: error }, 'expired recordings could not be deleted');
  }
  if (deleted > 0) deps.logger.info({ event: 'recordings_expired', count: deleted, cutoff: cutoff.toISOString() }, 'expired recordings deleted');
  return deleted;
}

/** Sweeps now and then every RETENTION_SWEEP_INTERVAL_MS; returns a function that stops it. */
export function startRetention(deps: RetentionDeps): () => void {
  return startPeriodicSweep(() => sweepRecordings(deps), RETENTION_SWEEP_INTERVAL_MS);
}

async function removeFile(path: string, logger: Logger): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ event: 'recording_sweep_failed', err: error }, 'a recording file could not be deleted');
    return false;
  }
}
