/**
 * One transaction on one pooled client: committed when `work` returns, rolled back when it throws,
 * the client released either way; outages reported as ../store-errors.ts expects (pg-errors.ts).
 */
import type pg from 'pg';
import { asStoreError } from './pg-errors.js';

export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw asStoreError(error);
  }
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw asStoreError(error);
  } finally {
    client.release();
  }
}
