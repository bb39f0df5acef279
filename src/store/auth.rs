//! Provider credentials: one row per provider, merged on write.

use std::fmt;

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store};

#[derive(Clone, PartialEq)]
pub struct Credential {
    pub provider: String,
    /// Always `api_key` today.
    pub kind: String,
    pub key: String,
    pub base_url: Option<String>,
    pub updated_at: String,
}

impl fmt::Debug for Credential {
    // Never print the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("provider", &self.provider)
            .field("kind", &self.kind)
            .field("key", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Credential> {
    Ok(Credential {
        provider: row.get(0)?,
        kind: row.get(1)?,
        key: row.get(2)?,
        base_url: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

impl Store {
    /// Stores these credentials in one transaction; other providers keep theirs.
    /// `updated_at` of the given values is ignored (set to now).
    pub fn put_credentials(&self, credentials: &[Credential]) -> Result<()> {
        let now = crate::time::now();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for c in credentials {
            tx.execute(
                "INSERT INTO credentials (provider, type, key, base_url, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (provider) DO UPDATE SET
                   type = excluded.type, key = excluded.key, base_url = excluded.base_url,
                   updated_at = excluded.updated_at",
                params![c.provider, c.kind, c.key, c.base_url, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every stored credential, by provider name.
    pub fn credentials(&self) -> Result<Vec<Credential>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT provider, type, key, base_url, updated_at FROM credentials ORDER BY provider",
        )?;
        let rows = stmt
            .query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn credential(&self, provider: &str) -> Result<Option<Credential>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT provider, type, key, base_url, updated_at FROM credentials WHERE provider = ?1",
                [provider],
                from_row,
            )
            .optional()?)
    }

    pub fn delete_credential(&self, provider: &str) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM credentials WHERE provider = ?1", [provider])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred(provider: &str, key: &str) -> Credential {
        Credential {
            provider: provider.into(),
            kind: "api_key".into(),
            key: key.into(),
            base_url: None,
            updated_at: String::new(),
        }
    }

    #[test]
    fn merge_and_delete() {
        let store = Store::open_in_memory().unwrap();
        store
            .put_credentials(&[cred("anthropic", "k1"), cred("openai", "k2")])
            .unwrap();
        store.put_credentials(&[cred("anthropic", "k3")]).unwrap();
        let all = store.credentials().unwrap();
        let keys: Vec<(&str, &str)> = all
            .iter()
            .map(|c| (c.provider.as_str(), c.key.as_str()))
            .collect();
        assert_eq!(keys, vec![("anthropic", "k3"), ("openai", "k2")]);
        assert!(!format!("{:?}", all[0]).contains("k3"));
        assert!(store.delete_credential("openai").unwrap());
        assert_eq!(store.credential("openai").unwrap(), None);
        assert!(!store.delete_credential("openai").unwrap());
    }
}
