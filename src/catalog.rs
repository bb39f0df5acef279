//! The embedded provider and model catalog: models.dev data plus each provider's
//! `protocol` and `api` base URL (`src/models.json`, refreshed by
//! `scripts/update-catalog.sh`). No network is needed to list models.
//!
//! Parsed once, on first use, so start-up stays fast.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::provider::Protocol;

const RAW: &str = include_str!("models.json");

/// One provider of the catalog.
#[derive(Debug, Clone, Deserialize)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub protocol: String,
    pub api: String,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub doc: Option<String>,
    /// models.dev's model objects, keyed by id, as served.
    #[serde(default)]
    pub models: Map<String, Value>,
}

impl Provider {
    pub fn protocol(&self) -> Option<Protocol> {
        Protocol::parse(&self.protocol)
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

fn parse(raw: &str) -> Result<Catalog, serde_json::Error> {
    serde_json::from_str(raw)
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
        assert!(anthropic.models.contains_key("claude-sonnet-4-5"));
    }
}
