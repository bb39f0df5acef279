//! Resolving a provider's endpoint: the stored key, else the first of the
//! catalog's `env` variables that is set; the stored `base_url` over the catalog's
//! `api`, whose `${VAR}` placeholders (Cloudflare's account id, Databricks' host)
//! are filled from the environment. This is the only place that reads provider
//! environment variables.

use std::sync::OnceLock;

use crate::catalog::Provider;
use crate::provider::{Endpoint, Protocol};
use crate::store::Credential;

/// Where a provider's key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Db,
    Env,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Db => "db",
            Source::Env => "env",
        }
    }
}

/// The catalog `env` variables that hold a key, not a placeholder of `api`.
fn key_vars(provider: &Provider) -> impl Iterator<Item = &String> {
    provider
        .env
        .iter()
        .filter(|var| !provider.api.contains(&format!("${{{var}}}")))
}

/// The key from the environment, when one of the provider's variables is set.
pub fn env_key(provider: &Provider) -> Option<String> {
    key_vars(provider).find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

/// Environment variables that may hold a secret of the server: every variable a
/// catalog provider reads its key from, and `WINGMAN_TOKEN`. The bash tool's
/// child processes run without them.
pub fn secret_env_vars() -> &'static [String] {
    static VARS: OnceLock<Vec<String>> = OnceLock::new();
    VARS.get_or_init(|| {
        let mut vars: Vec<String> = crate::catalog::get()
            .values()
            .flat_map(|p| key_vars(p).cloned())
            .collect();
        vars.push("WINGMAN_TOKEN".to_string());
        vars.sort();
        vars.dedup();
        vars
    })
}

/// True for base URLs on this machine, where local servers need no key.
pub fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// The endpoint to call, or `None` when no key is available (and one is needed).
pub fn resolve(provider: &Provider, stored: Option<&Credential>) -> Option<(Endpoint, Source)> {
    let protocol = provider.protocol().unwrap_or(Protocol::OpenAi);
    let base_url = stored
        .and_then(|c| c.base_url.clone())
        .unwrap_or_else(|| fill_placeholders(&provider.api));
    // A stored entry may hold only a base_url: the key then comes from the environment.
    let (api_key, source) = match stored.map(|c| c.key.clone()).filter(|k| !k.is_empty()) {
        Some(key) => (Some(key), Source::Db),
        None => (env_key(provider), Source::Env),
    };
    if api_key.is_none() && !is_loopback(&base_url) {
        return None;
    }
    let endpoint = Endpoint {
        provider: provider.id.clone(),
        protocol,
        base_url: base_url.trim_end_matches('/').to_string(),
        api_key,
    };
    Some((endpoint, source))
}

fn fill_placeholders(api: &str) -> String {
    let mut out = api.to_string();
    while let Some(start) = out.find("${") {
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let var = &out[start + 2..start + len];
        let value = std::env::var(var).unwrap_or_default();
        out.replace_range(start..start + len + 1, &value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://localhost:11434/v1",
            "http://127.0.0.1:1234/v1",
            "http://[::1]:80/v1",
            "127.0.0.1",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://api.anthropic.com/v1",
            "http://localhost.evil.com/",
            "http://10.0.0.1/",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }

    #[test]
    fn stored_credentials_win_and_placeholders_fill() {
        let provider = Provider::from_json(
            r#"{"id": "cf", "name": "CF", "protocol": "openai", "api": "https://x/${WINGMAN_TEST_UNSET_ACCOUNT}/v1",
                "env": ["WINGMAN_TEST_UNSET_ACCOUNT", "WINGMAN_TEST_UNSET_KEY"]}"#,
        )
        .unwrap();
        assert_eq!(
            key_vars(&provider).collect::<Vec<_>>(),
            vec!["WINGMAN_TEST_UNSET_KEY"]
        );
        assert_eq!(resolve(&provider, None), None);
        let stored = Credential {
            provider: "cf".into(),
            kind: "api_key".into(),
            key: "k".into(),
            base_url: None,
            updated_at: String::new(),
        };
        let (endpoint, source) = resolve(&provider, Some(&stored)).unwrap();
        assert_eq!(
            (
                endpoint.base_url.as_str(),
                endpoint.api_key.as_deref(),
                source
            ),
            ("https://x//v1", Some("k"), Source::Db)
        );
    }
}
