/**
 * Schema migrations, applied in order inside one transaction each and recorded in
 * `schema_migrations`. Never edit a shipped migration; add the next one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
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
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE apps (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
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
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        triggered_by TEXT,
        closes_at INTEGER,
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
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX builds_by_app ON builds(app_id, started_at DESC);
      CREATE TABLE sessions (
        sid TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        expires_at INTEGER NOT NULL
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
      ALTER TABLE apps ADD COLUMN record_sessions INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE audit_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
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
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        size_bytes INTEGER NOT NULL DEFAULT 0,
        dropped_bytes INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX recordings_by_build ON recordings(build_id, started_at);
      CREATE INDEX recordings_by_start ON recordings(started_at);
    `,
  },
  {
    version: 4,
    name: 'openid connect subject',
    sql: `
      ALTER TABLE users ADD COLUMN oidc_subject TEXT;
      CREATE UNIQUE INDEX users_by_oidc_subject ON users(oidc_subject);
    `,
  },
  {
    // 5 is PostgreSQL's cluster tables; the versions stay aligned across the two lists.
    version: 6,
    name: 'sign-in session epochs',
    // Sessions from before this version hold a bare user id, which is no longer trusted: they go.
    sql: `
      ALTER TABLE users ADD COLUMN session_epoch TEXT NOT NULL DEFAULT '';
      UPDATE users SET session_epoch = lower(hex(randomblob(16)));
      DELETE FROM sessions;
      ALTER TABLE sessions ADD COLUMN user_id TEXT;
      ALTER TABLE sessions ADD COLUMN sign_in_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE sessions ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX sessions_by_user ON sessions(user_id, created_at);
      CREATE INDEX sessions_by_sign_in ON sessions(sign_in_id);
    `,
  },
  {
    version: 7,
    name: 'recordings keep their app',
    // Recordings made before this knew no app: the build's app now is the best guess there is.
    sql: `
      ALTER TABLE recordings ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
      UPDATE recordings SET app_id = COALESCE((SELECT app_id FROM builds WHERE builds.id = recordings.build_id), '');
    `,
  },
  {
    // 8 and 9 are PostgreSQL's cluster tables; the versions stay aligned across the two lists.
    version: 10,
    name: 'window extensions',
    // The orchestrator's extension policy (both null: none), and how much later than the
    // orchestrator's own close time users have moved it, so a replayed finish keeps their extension.
    sql: `
      ALTER TABLE builds ADD COLUMN extension_step_minutes INTEGER;
      ALTER TABLE builds ADD COLUMN extension_max_minutes INTEGER;
      ALTER TABLE builds ADD COLUMN extended_ms INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 11,
    name: 'webhook outbox',
    // One row per event and endpoint (seq orders them); attempts are kept apart for the deliveries API.
    sql: `
      CREATE TABLE webhook_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        build_id TEXT NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        claimed_by TEXT,
        claimed_until INTEGER,
        settled_at INTEGER,
        UNIQUE (event_id, endpoint)
      );
      CREATE INDEX webhook_outbox_pending ON webhook_outbox(status, endpoint, build_id, seq);
      CREATE INDEX webhook_outbox_settled ON webhook_outbox(settled_at);
      CREATE TABLE webhook_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
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
