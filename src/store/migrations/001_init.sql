-- Credentials: one row per provider. The key is stored as given (the file is 0600).
CREATE TABLE credentials (
    provider   TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    key        TEXT NOT NULL,
    base_url   TEXT,
    updated_at TEXT NOT NULL
);

CREATE TABLE agents (
    id           TEXT PRIMARY KEY,   -- ULID, monotonic: ORDER BY id is creation order
    name         TEXT NOT NULL,
    instructions TEXT NOT NULL,
    tools        TEXT NOT NULL,      -- JSON array of tool names, in the agent's order
    provider     TEXT NOT NULL,
    model        TEXT NOT NULL,
    max_tokens   INTEGER NOT NULL,
    temperature  REAL,
    max_steps    INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    title         TEXT,
    work_dir      TEXT,
    message_count INTEGER NOT NULL DEFAULT 0,  -- also the next message's seq
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- One row per message: appending never rewrites the history.
CREATE TABLE messages (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content    TEXT NOT NULL,        -- JSON array of blocks
    created_at TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
