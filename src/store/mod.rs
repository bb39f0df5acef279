//! Everything Wingman keeps, in one SQLite file: the only module that imports rusqlite.
//!
//! One connection behind a mutex: SQLite serialises writers anyway, and a single
//! connection can never report "database is locked" to another of ours. WAL with
//! `synchronous=FULL` makes every committed step durable. The lock is held for one
//! short statement or transaction, never across network or tool I/O (STYLE §9).
//! A session's history is one row per message, so appending stays O(1).

mod agents;
mod auth;
mod migrate;
mod sessions;

use std::fmt;
use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

pub use agents::AgentParams;
pub use auth::Credential;
pub use sessions::SessionPatch;

#[derive(Debug)]
pub enum StoreError {
    /// The database folder or file could not be prepared.
    Open(String),
    Sqlite(rusqlite::Error),
    /// A stored value that does not decode (hand-edited database, or a bug).
    Corrupt(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open(m) => f.write_str(m),
            StoreError::Sqlite(e) => write!(f, "database error: {e}"),
            StoreError::Corrupt(m) => write!(f, "database holds an unreadable value: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Sqlite(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating when missing) the database at `path`: its folder mode 0700,
    /// the file mode 0600, then the schema migrated to the current version.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| StoreError::Open(format!("cannot create {}: {e}", dir.display())))?;
        }
        // Create the file ourselves so it is born 0600 (SQLite would use the umask).
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .and_then(|f| f.set_permissions(std::fs::Permissions::from_mode(0o600)))
            .map_err(|e| StoreError::Open(format!("cannot open {}: {e}", path.display())))?;
        let conn = Connection::open(path)?;
        Store::configure(conn)
    }

    /// An in-memory database, for unit tests.
    pub fn open_in_memory() -> Result<Store> {
        Store::configure(Connection::open_in_memory()?)
    }

    fn configure(mut conn: Connection) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate::run(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// The connection, for one short statement or transaction. A panic while it
    /// was held (a bug) leaves SQLite consistent, so a poisoned lock is reused.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Checkpoints the WAL into the main file; called once at shutdown.
    pub fn close(&self) -> Result<()> {
        self.conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A new ULID. Monotonic within the process (a second id in the same millisecond
/// is the first plus one), so `ORDER BY id` is creation order.
fn new_id() -> String {
    static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);
    let mut slot = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let generator = slot.get_or_insert_with(ulid::Generator::new);
    // Overflow needs 2^80 ids in one millisecond; fall back to a random one.
    generator
        .generate()
        .unwrap_or_else(|_| ulid::Ulid::new())
        .to_string()
}
