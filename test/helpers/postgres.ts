/**
 * A throwaway PostgreSQL cluster for tests, from Debian's postgresql package: initdb into a
 * temporary folder, `pg_ctl start` on a free loopback port, `pg_ctl stop` after. initdb refuses to
 * run as root, so the cluster belongs to the `postgres` system user. Durability is switched off:
 * the data dies with the test anyway.
 */
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CommandError, registerTempDir, runCommand } from './daemon.js';
import { freePort } from './ports.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const CLUSTER_OWNER = 'postgres';
/** The superuser initdb creates; tests connect as it over loopback (trust auth, 127.0.0.1 only). */
const SUPERUSER = 'porthole';
/** freePort() can lose a race to another process; a few fresh ports practically always suffice. */
const START_ATTEMPTS = 4;
/** A cold start on a loaded 2-core machine takes a second or two; pg_ctl -w waits at most this. */
const START_TIMEOUT_S = 30;
/** Two gateways' pools, a thousand racing redemptions queued behind them, and the tests' own clients. */
const MAX_CONNECTIONS = 200;

export interface PostgresCluster {
  readonly port: number;
  /** postgres://… of the cluster's default database. */
  readonly url: string;
  /** A new empty database; returns its postgres:// URL. */
  createDatabase(): Promise<string>;
  /** Runs one statement as the superuser against `database` (default: postgres). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: readonly unknown[], database?: string): Promise<R[]>;
  /** The server log so far, for debugging failures. */
  logs(): string;
  stop(): Promise<void>;
}

function asOwner(command: string, args: readonly string[]): Promise<unknown> {
  return runCommand('runuser', ['-u', CLUSTER_OWNER, '--', join(PG_BIN, command), ...args]);
}

export async function startPostgres(): Promise<PostgresCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-pg-'));
  const releaseDir = registerTempDir(dir);
  chownSync(dir, uidOf(CLUSTER_OWNER), gidOf(CLUSTER_OWNER));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  await asOwner('initdb', ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const options = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      "-c unix_socket_directories=''",
      `-c max_connections=${MAX_CONNECTIONS}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    try {
      await asOwner('pg_ctl', ['start', '-w', '-t', String(START_TIMEOUT_S), '-D', data, '-l', logFile, '-o', options]);
      break;
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !(error instanceof CommandError)) throw new Error(`postgres did not start: ${String(error)}\n${readLog(logFile)}`);
    }
  }
  // Whatever happens to this test process, the postmaster goes with it (SIGQUIT: immediate stop).
  const postmasterPid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const killOnExit = (): void => {
    try {
      process.kill(postmasterPid, 'SIGQUIT');
    } catch {
      // Already stopped.
    }
  };
  process.on('exit', killOnExit);

  const urlOf = (database: string): string => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
  const query = async <R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = [], database = 'postgres'): Promise<R[]> => {
    const client = new pg.Client({ connectionString: urlOf(database) });
    await client.connect();
    try {
      return (await client.query<R>(sql, [...params])).rows;
    } finally {
      await client.end();
    }
  };
  let stopped: Promise<void> | null = null;
  return {
    port,
    url: urlOf('postgres'),
    async createDatabase() {
      const name = `t_${randomBytes(6).toString('hex')}`;
      await query(`CREATE DATABASE ${name}`);
      return urlOf(name);
    },
    query,
    logs: () => readLog(logFile),
    stop() {
      stopped ??= (async () => {
        await asOwner('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']).catch(killOnExit);
        process.off('exit', killOnExit);
        rmSync(dir, { recursive: true, force: true });
        releaseDir();
      })();
      return stopped;
    },
  };
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function passwdEntry(name: string): string[] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no system user "${name}": install Debian's postgresql package (scripts/ensure-system-deps.sh)`);
  return line.split(':');
}

function uidOf(name: string): number {
  return Number(passwdEntry(name)[2]);
}

function gidOf(name: string): number {
  return Number(passwdEntry(name)[3]);
}
