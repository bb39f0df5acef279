//! Sessions and their history: a session row with running totals, and one row
//! per message keyed by (session_id, seq). Appending a step is one transaction
//! that inserts its messages and bumps the totals: O(1) whatever the history's length.

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store, from_json, new_id, to_json};
use crate::types::{Block, Message, Role, Session, SessionStatus, Usage};

/// A partial update: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionPatch {
    pub title: Option<Option<String>>,
    pub work_dir: Option<Option<String>>,
}

const COLUMNS: &str =
    "id, title, work_dir, message_count, input_tokens, output_tokens, created_at, updated_at";

/// SQLite integers are i64; counts are never negative.
fn count(n: i64) -> u64 {
    n.max(0) as u64
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: row.get(0)?,
        title: row.get(1)?,
        work_dir: row.get(2)?,
        status: SessionStatus::Idle,
        message_count: count(row.get(3)?),
        usage: Usage {
            input_tokens: count(row.get(4)?),
            output_tokens: count(row.get(5)?),
        },
        history: None,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
    })
}

impl Store {
    pub fn create_session(&self, title: Option<&str>, work_dir: Option<&str>) -> Result<Session> {
        let now = crate::time::now();
        let conn = self.conn();
        let id = new_id();
        conn.execute(
            &format!("INSERT INTO sessions ({COLUMNS}) VALUES (?1, ?2, ?3, 0, 0, 0, ?4, ?4)"),
            params![id, title, work_dir, now],
        )?;
        Ok(Session {
            id,
            title: title.map(str::to_string),
            work_dir: work_dir.map(str::to_string),
            status: SessionStatus::Idle,
            message_count: 0,
            usage: Usage::default(),
            history: Some(Vec::new()),
            created_at: now.clone(),
            updated_at: now,
        })
    }

    /// Newest first, without history (status is left `Idle`: runs live in memory).
    pub fn list_sessions(&self) -> Result<Vec<Session>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM sessions ORDER BY id DESC"))?;
        let sessions = stmt
            .query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(sessions)
    }

    /// The session, with its whole history when `with_history`.
    pub fn get_session(&self, id: &str, with_history: bool) -> Result<Option<Session>> {
        let conn = self.conn();
        let Some(mut session) = conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?
        else {
            return Ok(None);
        };
        if with_history {
            let mut stmt = conn.prepare_cached(
                "SELECT role, content FROM messages WHERE session_id = ?1 ORDER BY seq",
            )?;
            let rows = stmt
                .query_map([id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            drop(stmt);
            drop(conn);
            let history = rows
                .into_iter()
                .map(|(role, content)| decode_message(&role, &content))
                .collect::<Result<Vec<_>>>()?;
            session.history = Some(history);
        }
        Ok(Some(session))
    }

    /// The history alone (what a run sends to the provider).
    pub fn history(&self, id: &str) -> Result<Vec<Message>> {
        Ok(self
            .get_session(id, true)?
            .and_then(|s| s.history)
            .unwrap_or_default())
    }

    pub fn update_session(&self, id: &str, patch: &SessionPatch) -> Result<Option<Session>> {
        let now = crate::time::now();
        let conn = self.conn();
        let updated = conn.execute(
            "UPDATE sessions SET
               title = CASE WHEN ?2 THEN ?3 ELSE title END,
               work_dir = CASE WHEN ?4 THEN ?5 ELSE work_dir END,
               updated_at = ?6
             WHERE id = ?1",
            params![
                id,
                patch.title.is_some(),
                patch.title.clone().flatten(),
                patch.work_dir.is_some(),
                patch.work_dir.clone().flatten(),
                now
            ],
        )?;
        drop(conn);
        if updated == 0 {
            return Ok(None);
        }
        self.get_session(id, true)
    }

    /// Deletes the session and its history.
    pub fn delete_session(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM sessions WHERE id = ?1", [id])?
            > 0)
    }

    /// Appends messages (one step: the assistant message and its tool results, or
    /// a prompt) and adds `usage` to the session's totals, in one transaction.
    /// Returns false when the session no longer exists (deleted mid-run).
    pub fn append_messages(&self, id: &str, messages: &[Message], usage: Usage) -> Result<bool> {
        let now = crate::time::now();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let next: Option<i64> = tx
            .query_row(
                "UPDATE sessions SET message_count = message_count + ?2, input_tokens = input_tokens + ?3,
                   output_tokens = output_tokens + ?4, updated_at = ?5
                 WHERE id = ?1 RETURNING message_count - ?2",
                params![id, messages.len() as i64, usage.input_tokens as i64, usage.output_tokens as i64, now],
                |r| r.get(0),
            )
            .optional()?;
        let Some(first_seq) = next else {
            return Ok(false);
        };
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO messages (session_id, seq, role, content, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (offset, message) in messages.iter().enumerate() {
                insert.execute(params![
                    id,
                    first_seq + offset as i64,
                    message.role.as_str(),
                    to_json(&message.content)?,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }
}

fn decode_message(role: &str, content: &str) -> Result<Message> {
    let role = match role {
        "user" => Role::User,
        _ => Role::Assistant,
    };
    let content: Vec<Block> = from_json(content, "message content")?;
    Ok(Message { role, content })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_and_history() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session(Some("t"), Some("/tmp")).unwrap();
        let step = vec![
            Message {
                role: Role::Assistant,
                content: vec![Block::ToolUse {
                    id: "t1".into(),
                    name: "bash".into(),
                    input: serde_json::json!({"command": "ls"}),
                }],
            },
            Message {
                role: Role::User,
                content: vec![Block::ToolResult {
                    tool_use_id: "t1".into(),
                    content: "a\n".into(),
                    is_error: false,
                }],
            },
        ];
        assert!(
            store
                .append_messages(&s.id, &[Message::user_text("hi")], Usage::default())
                .unwrap()
        );
        assert!(
            store
                .append_messages(
                    &s.id,
                    &step,
                    Usage {
                        input_tokens: 10,
                        output_tokens: 3
                    }
                )
                .unwrap()
        );
        let got = store.get_session(&s.id, true).unwrap().unwrap();
        let mut want_history = vec![Message::user_text("hi")];
        want_history.extend(step);
        assert_eq!(got.history, Some(want_history));
        assert_eq!(
            (got.message_count, got.usage),
            (
                3,
                Usage {
                    input_tokens: 10,
                    output_tokens: 3
                }
            )
        );

        let listed = store.list_sessions().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].history, None);

        let patched = store
            .update_session(
                &s.id,
                &SessionPatch {
                    title: Some(None),
                    work_dir: None,
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            (patched.title, patched.work_dir.as_deref()),
            (None, Some("/tmp"))
        );

        assert!(store.delete_session(&s.id).unwrap());
        assert!(
            !store
                .append_messages(&s.id, &[Message::user_text("late")], Usage::default())
                .unwrap()
        );
        assert_eq!(store.get_session(&s.id, true).unwrap(), None);
    }
}
