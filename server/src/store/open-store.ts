/**
 * Opens the store where the configuration points: SQLite for one node, PostgreSQL for several.
 * Takes the location, not the configuration, so the store layer stays below config/.
 */
import { resolve } from 'node:path';
import type { Logger } from '../log.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { PostgresStore } from './postgres/postgres-store.js';

export type StoreLocation = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

export interface OpenStoreOptions {
  /** Names this node's database connections, so an operator can tell the nodes apart. */
  readonly nodeId: string;
  readonly logger: Logger;
}

export type OpenedStore = { readonly kind: 'sqlite'; readonly store: SqliteStore } | { readonly kind: 'postgres'; readonly store: PostgresStore };

export async function openStore(location: StoreLocation, { nodeId, logger }: OpenStoreOptions): Promise<OpenedStore> {
  switch (location.kind) {
    case 'sqlite':
      return { kind: 'sqlite', store: SqliteStore.open(resolve(location.path)) };
    case 'postgres':
      return {
        kind: 'postgres',
        store: await PostgresStore.open(location.url, {
          applicationName: `porthole:${nodeId}`,
          onIdleError: (error) => logger.warn({ event: 'database_connection_lost', err: error }, 'an idle database connection was dropped'),
        }),
      };
  }
}
