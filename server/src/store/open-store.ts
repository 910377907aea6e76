/** Opens the store PORTHOLE_DATABASE names: SQLite for one node, PostgreSQL for several. */
import { resolve } from 'node:path';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { PostgresStore } from './postgres/postgres-store.js';

export type OpenedStore = { readonly kind: 'sqlite'; readonly store: SqliteStore } | { readonly kind: 'postgres'; readonly store: PostgresStore };

export async function openStore(config: Config, logger: Logger): Promise<OpenedStore> {
  const { database } = config;
  switch (database.kind) {
    case 'sqlite':
      return { kind: 'sqlite', store: SqliteStore.open(resolve(database.path)) };
    case 'postgres':
      return {
        kind: 'postgres',
        store: await PostgresStore.open(database.url, {
          applicationName: `porthole:${config.nodeId}`,
          onIdleError: (error) => logger.warn({ event: 'database_connection_lost', err: error }, 'an idle database connection was dropped'),
        }),
      };
  }
}
