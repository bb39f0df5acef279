//! `/provider…`: the embedded catalog and the stored credentials.

use serde_json::{Map, Value, json};

use super::body;
use crate::app::App;
use crate::catalog::{self, Provider};
use crate::credentials::{self, Source};
use crate::error::ApiError;
use crate::http::{Request, Response};
use crate::store::Credential;

fn find(name: &str) -> Result<&'static Provider, ApiError> {
    catalog::provider(name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no provider named `{name}` in the catalog; GET /provider lists them"
        ))
    })
}

fn info(provider: &Provider, stored: Option<&Credential>) -> Value {
    json!({
        "name": provider.id,
        "display_name": provider.name,
        "protocol": provider.protocol,
        "api": provider.api,
        "auth_types": ["api_key"],
        "configured": credentials::resolve(provider, stored).is_some(),
        "model_count": provider.model_count,
    })
}

pub fn list(app: &App) -> Result<Response, ApiError> {
    let stored = app.store.credentials()?;
    let list: Vec<Value> = catalog::get()
        .values()
        .map(|p| info(p, stored.iter().find(|c| c.provider == p.id)))
        .collect();
    Ok(Response::ok(&list))
}

pub fn get(app: &App, name: &str) -> Result<Response, ApiError> {
    let provider = find(name)?;
    Ok(Response::ok(&info(
        provider,
        app.store.credential(name)?.as_ref(),
    )))
}

pub fn models(app: &App, name: &str) -> Result<Response, ApiError> {
    let provider = find(name)?;
    if let Some(models) = provider.models() {
        return Ok(Response::ok(models));
    }
    // Local servers (ollama, lmstudio…) have no catalog: ask them what they serve.
    let stored = app.store.credential(name)?;
    let live = match credentials::resolve(provider, stored.as_ref()) {
        Some((endpoint, _)) => app.provider.list_models(&endpoint),
        None => Map::new(),
    };
    Ok(Response::ok(&live))
}

pub fn model(app: &App, name: &str, id: &str) -> Result<Response, ApiError> {
    let provider = find(name)?;
    if provider.models().is_none() {
        // No catalog (ollama…): look the id up in the live list, as /models does.
        let stored = app.store.credential(name)?;
        let live = credentials::resolve(provider, stored.as_ref())
            .map(|(endpoint, _)| app.provider.list_models(&endpoint))
            .unwrap_or_default();
        return live.get(id).map(Response::ok).ok_or_else(|| {
            ApiError::NotFound(format!("provider `{name}` does not list a model `{id}`"))
        });
    }
    provider.model(id).map(Response::ok).ok_or_else(|| {
        ApiError::NotFound(format!(
            "provider `{name}` has no model `{id}` in the catalog"
        ))
    })
}

pub fn auth_status(app: &App) -> Result<Response, ApiError> {
    let stored = app.store.credentials()?;
    let mut providers = Map::new();
    for c in &stored {
        // An entry with only a base_url takes its key from the environment.
        let resolved =
            catalog::provider(&c.provider).and_then(|p| credentials::resolve(p, Some(c)));
        let source = resolved.as_ref().map_or(Source::Db, |(_, source)| *source);
        providers.insert(
            c.provider.clone(),
            json!({"type": c.kind, "configured": resolved.is_some(), "base_url": c.base_url, "source": source.as_str()}),
        );
    }
    for p in catalog::get().values() {
        if !providers.contains_key(&p.id) && credentials::env_key(p).is_some() {
            providers.insert(
                p.id.clone(),
                json!({"type": "api_key", "configured": true, "base_url": null, "source": Source::Env.as_str()}),
            );
        }
    }
    let updated_at = stored.iter().map(|c| c.updated_at.as_str()).max();
    Ok(Response::ok(
        &json!({"providers": providers, "updated_at": updated_at}),
    ))
}

/// Validates every entry before storing any, so a bad entry stores nothing.
pub fn set_auth(app: &App, req: &Request) -> Result<Response, ApiError> {
    let obj = body::object(req, false)?;
    let Some(Value::Object(entries)) = obj.get("providers") else {
        return Err(ApiError::BadRequest(
            "`providers` is required and must be an object: {\"providers\": {\"anthropic\": {\"type\": \"api_key\", \"key\": \"…\"}}}".into(),
        ));
    };
    let mut credentials = Vec::new();
    for (name, entry) in entries {
        let field = |f: &str| format!("providers.{name}.{f}");
        let provider = catalog::provider(name).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "`providers.{name}`: no provider named `{name}` in the catalog"
            ))
        })?;
        let Value::Object(entry) = entry else {
            return Err(ApiError::BadRequest(format!(
                "`providers.{name}` must be an object"
            )));
        };
        let kind = body::string(entry, "type").map_err(|_| bad_type(&field("type")))?;
        let kind = kind.unwrap_or_else(|| "api_key".into());
        if kind != "api_key" {
            return Err(ApiError::BadRequest(format!(
                "`{}`: type `{kind}` is not supported; use \"api_key\"",
                field("type")
            )));
        }
        let base_url = body::string(entry, "base_url").map_err(|_| bad_type(&field("base_url")))?;
        if let Some(url) = &base_url
            && !has_http_host(url)
        {
            return Err(ApiError::BadRequest(format!(
                "`{}` must be an http:// or https:// URL",
                field("base_url")
            )));
        }
        let key = body::string(entry, "key")
            .map_err(|_| bad_type(&field("key")))?
            .unwrap_or_default();
        let url = base_url.as_deref().unwrap_or(&provider.api);
        if key.trim().is_empty() && !credentials::is_loopback(url) {
            return Err(ApiError::BadRequest(format!(
                "`{}` is required and must not be empty",
                field("key")
            )));
        }
        credentials.push(Credential {
            provider: name.clone(),
            kind,
            key: key.trim().to_string(),
            base_url,
            updated_at: String::new(),
        });
    }
    app.store.put_credentials(&credentials)?;
    Ok(Response::ok(&json!({"status": "ok"})))
}

/// `http(s)://` followed by a host.
fn has_http_host(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    rest.and_then(|r| r.split(['/', '?', '#']).next())
        .is_some_and(|host| !host.is_empty())
}

fn bad_type(field: &str) -> ApiError {
    ApiError::BadRequest(format!("`{field}` must be a string"))
}

pub fn delete_auth(app: &App, name: &str) -> Result<Response, ApiError> {
    if catalog::provider(name).is_none() {
        return Err(ApiError::BadRequest(format!(
            "no provider named `{name}` in the catalog"
        )));
    }
    if app.store.delete_credential(name)? {
        Ok(super::deleted())
    } else {
        Err(ApiError::NotFound(format!(
            "no credentials are stored for `{name}`"
        )))
    }
}
