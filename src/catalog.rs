//! The embedded provider and model catalog: models.dev data plus each provider's
//! `protocol` and `api` base URL (`src/models.json`, refreshed by
//! `scripts/update-catalog.sh`). No network is needed to list models.
//!
//! Parsed once, on first use, so start-up stays fast.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::provider::Protocol;

const RAW: &str = include_str!("models.json");

/// One provider of the catalog. Its models stay unparsed JSON inside the binary
/// (parsing all 4,000 into values would cost ~20 MiB of resident memory); a
/// listing is served as the raw text, one model is parsed out on demand.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub protocol: String,
    pub api: String,
    pub env: Vec<String>,
    pub doc: Option<String>,
    pub model_count: usize,
    models: Option<&'static RawValue>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    name: String,
    protocol: String,
    api: String,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    doc: Option<String>,
    #[serde(default, borrow)]
    models: Option<&'static RawValue>,
}

impl Provider {
    pub fn protocol(&self) -> Option<Protocol> {
        Protocol::parse(&self.protocol)
    }

    /// models.dev's model objects keyed by id, as served (raw JSON text).
    pub fn models(&self) -> Option<&'static RawValue> {
        self.models.filter(|_| self.model_count > 0)
    }

    /// One model object, when the catalog has it.
    pub fn model(&self, id: &str) -> Option<&'static RawValue> {
        let all: HashMap<String, &'static RawValue> =
            serde_json::from_str(self.models?.get()).ok()?;
        all.get(id).copied()
    }

    /// A provider built from JSON text (the catalog's shape), for tests.
    pub fn from_json(raw: &'static str) -> Result<Provider, serde_json::Error> {
        Provider::from_entry(serde_json::from_str(raw)?)
    }

    fn from_entry(e: Entry) -> Result<Provider, serde_json::Error> {
        let model_count = match e.models {
            Some(raw) => serde_json::from_str::<HashMap<String, IgnoredAny>>(raw.get())?.len(),
            None => 0,
        };
        Ok(Provider {
            id: e.id,
            name: e.name,
            protocol: e.protocol,
            api: e.api,
            env: e.env,
            doc: e.doc,
            model_count,
            models: e.models,
        })
    }
}

/// Providers keyed (and so sorted) by name.
pub type Catalog = BTreeMap<String, Provider>;

/// The catalog. A catalog that fails to parse is a build defect caught by the
/// tests below; at run time it would show as an empty catalog, never a panic.
pub fn get() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| parse(RAW).unwrap_or_default())
}

pub fn provider(name: &str) -> Option<&'static Provider> {
    get().get(name)
}

fn parse(raw: &'static str) -> Result<Catalog, serde_json::Error> {
    let entries: BTreeMap<String, Entry> = serde_json::from_str(raw)?;
    entries
        .into_iter()
        .map(|(name, e)| Ok((name, Provider::from_entry(e)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_parses_with_known_protocols() {
        let catalog = parse(RAW).unwrap();
        assert!(catalog.len() > 100, "only {} providers", catalog.len());
        for (name, p) in &catalog {
            assert_eq!(name, &p.id);
            assert!(p.protocol().is_some(), "{name}: protocol {}", p.protocol);
            assert!(!p.api.is_empty(), "{name}: no api");
        }
        let anthropic = &catalog["anthropic"];
        assert_eq!(
            (anthropic.protocol.as_str(), anthropic.api.as_str()),
            ("anthropic", "https://api.anthropic.com/v1")
        );
        assert_eq!(anthropic.model_count, 24);
        let sonnet: serde_json::Value =
            serde_json::from_str(anthropic.model("claude-sonnet-4-5").unwrap().get()).unwrap();
        assert_eq!(sonnet["id"], "claude-sonnet-4-5");
        assert!(anthropic.model("nope").is_none());
        assert!(catalog["ollama"].models().is_none());
    }
}
