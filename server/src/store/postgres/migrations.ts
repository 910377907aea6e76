/**
 * The PostgreSQL schema: the same versions, names and tables as ../sqlite/migrations.ts in
 * PostgreSQL's dialect (timestamptz for times), plus the tables only several nodes need (shared
 * bearer tokens and the live-connection registry). Never edit a shipped migration; add the next
 * one, to both lists when the table exists in both.
 */
import type { Migration } from '../sqlite/migrations.js';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        email_key TEXT NOT NULL UNIQUE,
        name TEXT,
        password_hash TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      );
      CREATE TABLE apps (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      );
      CREATE TABLE memberships (
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'tester')),
        PRIMARY KEY (app_id, user_id)
      );
      CREATE INDEX memberships_by_user ON memberships(user_id);
      CREATE TABLE builds (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        stack TEXT NOT NULL CHECK (stack IN ('linux', 'macos')),
        status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'aborted')),
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        triggered_by TEXT,
        closes_at TIMESTAMPTZ,
        ssh_host TEXT NOT NULL,
        ssh_port INTEGER NOT NULL,
        ssh_username TEXT NOT NULL,
        ssh_password_sealed TEXT,
        ssh_private_key_sealed TEXT,
        ssh_host_key TEXT,
        vnc_host TEXT,
        vnc_port INTEGER,
        vnc_username TEXT,
        vnc_password_sealed TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
      );
      CREATE INDEX builds_by_app ON builds(app_id, started_at DESC);
      CREATE TABLE sessions (
        sid TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
      );
      CREATE INDEX sessions_by_expiry ON sessions(expires_at);
    `,
  },
  {
    version: 2,
    name: 'pinned ssh host key',
    sql: `ALTER TABLE builds ADD COLUMN ssh_pinned_host_key TEXT;`,
  },
  {
    version: 3,
    name: 'audit trail and session recordings',
    // No foreign keys on purpose: the audit trail and recordings outlive deleted users.
    sql: `
      ALTER TABLE apps ADD COLUMN record_sessions BOOLEAN NOT NULL DEFAULT false;
      CREATE TABLE audit_events (
        id BIGSERIAL PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL,
        event TEXT NOT NULL,
        user_id TEXT,
        build_id TEXT,
        details TEXT NOT NULL
      );
      CREATE INDEX audit_events_by_build ON audit_events(build_id, id);
      CREATE INDEX audit_events_by_user ON audit_events(user_id, id);
      CREATE INDEX audit_events_by_time ON audit_events(at);
      CREATE TABLE recordings (
        id TEXT PRIMARY KEY,
        build_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        ended_at TIMESTAMPTZ,
        size_bytes BIGINT NOT NULL DEFAULT 0,
        dropped_bytes BIGINT NOT NULL DEFAULT 0
      );
      CREATE INDEX recordings_by_build ON recordings(build_id, started_at);
      CREATE INDEX recordings_by_start ON recordings(started_at);
    `,
  },
  {
    version: 4,
    name: 'openid connect subject',
    sql: `ALTER TABLE users ADD COLUMN oidc_subject TEXT UNIQUE;`,
  },
  {
    version: 5,
    name: 'cluster coordination',
    // Only digests of bearer tokens; claims are JSON of ids and times, never a secret.
    sql: `
      CREATE TABLE bearer_tokens (
        kind TEXT NOT NULL,
        digest TEXT NOT NULL,
        claims TEXT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (kind, digest)
      );
      CREATE INDEX bearer_tokens_by_expiry ON bearer_tokens(expires_at);
      CREATE TABLE live_connections (
        node_id TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        build_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        opened_at TIMESTAMPTZ NOT NULL,
        bytes_to_browser BIGINT NOT NULL DEFAULT 0,
        bytes_from_browser BIGINT NOT NULL DEFAULT 0,
        seen_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (node_id, connection_id)
      );
      CREATE INDEX live_connections_by_build ON live_connections(build_id);
      CREATE INDEX live_connections_by_seen ON live_connections(seen_at);
    `,
  },
  {
    version: 6,
    name: 'sign-in session epochs',
    // Sessions from before this version hold a bare user id, which is no longer trusted: they go.
    // A volatile default is evaluated per existing row, so every user gets an epoch of their own;
    // it stays, so a node still on the previous version can register users during a rolling upgrade.
    sql: `
      ALTER TABLE users ADD COLUMN session_epoch TEXT NOT NULL DEFAULT md5(random()::text || clock_timestamp()::text);
      DELETE FROM sessions;
      ALTER TABLE sessions ADD COLUMN user_id TEXT;
      ALTER TABLE sessions ADD COLUMN sign_in_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE sessions ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now();
      CREATE INDEX sessions_by_user ON sessions(user_id, created_at);
      CREATE INDEX sessions_by_sign_in ON sessions(sign_in_id);
    `,
  },
  {
    version: 7,
    name: 'recordings keep their app',
    // As in SQLite; plus the owner of each bearer token, so one user's outstanding tokens are
    // counted (and capped) across every node.
    sql: `
      ALTER TABLE recordings ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
      UPDATE recordings SET app_id = COALESCE((SELECT app_id FROM builds WHERE builds.id = recordings.build_id), '');
      ALTER TABLE bearer_tokens ADD COLUMN owner TEXT NOT NULL DEFAULT '';
      CREATE INDEX bearer_tokens_by_owner ON bearer_tokens(kind, owner, expires_at);
    `,
  },
  {
    version: 8,
    name: 'resumable sessions are found on their node',
    // A session's id is no secret (resuming needs a ticket of its user); the node URL is where the
    // other nodes relay a page resuming it.
    sql: `
      ALTER TABLE live_connections ADD COLUMN session_id TEXT;
      ALTER TABLE live_connections ADD COLUMN node_url TEXT;
      CREATE INDEX live_connections_by_session ON live_connections(session_id) WHERE session_id IS NOT NULL;
    `,
  },
  {
    version: 9,
    name: 'live sessions name who is on them',
    // The members' live-session list (issue #16) on every node: a session's row says whether it is
    // held and who watches it, as {ownerName, held, watchers:[{userId, name, mode}]}; null on rows
    // of connections that are no session (and on rows a node of the previous version wrote).
    sql: `
      ALTER TABLE live_connections ADD COLUMN pairing JSONB;
    `,
  },
  {
    version: 10,
    name: 'window extensions',
    // As in SQLite. Nodes of the previous version ignore the columns: they neither extend nor
    // undo an extension (their upserts leave the columns alone).
    sql: `
      ALTER TABLE builds ADD COLUMN extension_step_minutes INTEGER;
      ALTER TABLE builds ADD COLUMN extension_max_minutes INTEGER;
      ALTER TABLE builds ADD COLUMN extended_ms BIGINT NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 11,
    name: 'webhook outbox',
    // One row per event and endpoint (seq orders them); attempts are kept apart for the deliveries API.
    sql: `
      CREATE TABLE webhook_outbox (
        seq BIGSERIAL PRIMARY KEY,
        event_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        build_id TEXT NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ NOT NULL,
        claimed_by TEXT,
        claimed_until TIMESTAMPTZ,
        settled_at TIMESTAMPTZ,
        UNIQUE (event_id, endpoint)
      );
      CREATE INDEX webhook_outbox_pending ON webhook_outbox(status, endpoint, build_id, seq);
      CREATE INDEX webhook_outbox_settled ON webhook_outbox(settled_at);
      CREATE TABLE webhook_attempts (
        id BIGSERIAL PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL,
        event_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        type TEXT NOT NULL,
        build_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms INTEGER NOT NULL
      );
      CREATE INDEX webhook_attempts_by_time ON webhook_attempts(at);
    `,
  },
];
