/**
 * Tables of the trust area (users, sessions, token owners, agent-token rotation),
 * added to the embedded database as their own migration chain ('auth'), so the
 * core schema is untouched. Append only: a released step is never edited.
 */
import { migrate, type Db } from '../store/sqlite/db.js'

const AUTH_MIGRATIONS: string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    password_changed_ms INTEGER NOT NULL,
    disabled_ms INTEGER
  );
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
  );
  CREATE INDEX sessions_user ON sessions(user_id, created_ms);
  CREATE INDEX sessions_expiry ON sessions(expires_ms);
  CREATE TABLE api_token_owners (
    token_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL
  );
  CREATE INDEX api_token_owners_user ON api_token_owners(user_id);
  CREATE TABLE agent_token_state (
    agent_id TEXT PRIMARY KEY,
    issued_ms INTEGER NOT NULL,
    rotate_due_ms INTEGER,
    deadline_ms INTEGER,
    due_token_hash TEXT
  );
  CREATE TABLE agent_grace_tokens (
    token_hash TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
  );
  CREATE INDEX agent_grace_agent ON agent_grace_tokens(agent_id);
  `
]

const migrated = new WeakSet<Db>()

/** Brings the trust tables up to date (idempotent, cheap after the first call per database). */
export function migrateAuth (db: Db): void {
  if (migrated.has(db)) return
  migrate(db, { name: 'auth', sql: AUTH_MIGRATIONS })
  migrated.add(db)
}
