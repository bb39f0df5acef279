//! `/agents…`: create, list, read, update and delete agent templates.

use super::body::{self, Object};
use crate::app::App;
use crate::catalog;
use crate::error::ApiError;
use crate::http::{Request, Response};
use crate::store::AgentParams;
use crate::types::TOOL_NAMES;

const DEFAULT_PROVIDER: &str = "anthropic";
const DEFAULT_MODEL: &str = "claude-sonnet-4-5";
const DEFAULT_MAX_TOKENS: u32 = 8192;
const DEFAULT_MAX_STEPS: u32 = 50;

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no agent with id `{id}`"))
}

pub fn list(app: &App) -> Result<Response, ApiError> {
    Ok(Response::ok(&app.store.list_agents()?))
}

pub fn get(app: &App, id: &str) -> Result<Response, ApiError> {
    let agent = app.store.get_agent(id)?.ok_or_else(|| not_found(id))?;
    Ok(Response::ok(&agent))
}

pub fn create(app: &App, req: &Request) -> Result<Response, ApiError> {
    let obj = body::object(req, false)?;
    let mut params = AgentParams {
        name: String::new(),
        instructions: String::new(),
        tools: Vec::new(),
        provider: DEFAULT_PROVIDER.into(),
        model: DEFAULT_MODEL.into(),
        max_tokens: DEFAULT_MAX_TOKENS,
        temperature: None,
        max_steps: DEFAULT_MAX_STEPS,
    };
    apply(&mut params, &obj)?;
    Ok(Response::json(201, &app.store.create_agent(&params)?))
}

/// Fields present replace, fields absent stay; the result is validated whole.
pub fn update(app: &App, id: &str, req: &Request) -> Result<Response, ApiError> {
    let obj = body::object(req, false)?;
    let existing = app.store.get_agent(id)?.ok_or_else(|| not_found(id))?;
    let mut params = AgentParams::from_agent(&existing);
    apply(&mut params, &obj)?;
    let agent = app
        .store
        .update_agent(id, &params)?
        .ok_or_else(|| not_found(id))?;
    Ok(Response::ok(&agent))
}

pub fn delete(app: &App, id: &str) -> Result<Response, ApiError> {
    if app.store.delete_agent(id)? {
        Ok(super::deleted())
    } else {
        Err(not_found(id))
    }
}

fn apply(p: &mut AgentParams, obj: &Object) -> Result<(), ApiError> {
    if let Some(name) = body::string(obj, "name")? {
        p.name = name;
    }
    if p.name.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "`name` is required and must not be empty".into(),
        ));
    }
    if let Some(instructions) = body::string(obj, "instructions")? {
        p.instructions = instructions;
    }
    if let Some(tools) = body::string_list(obj, "tools")? {
        p.tools = tools;
    }
    validate_tools(&p.tools)?;
    if let Some(provider) = body::string(obj, "provider")? {
        p.provider = provider;
    }
    if catalog::provider(&p.provider).is_none() {
        return Err(ApiError::BadRequest(format!(
            "`provider`: no provider named `{}` in the catalog; GET /provider lists them",
            p.provider
        )));
    }
    if let Some(model) = body::string(obj, "model")? {
        p.model = model;
    }
    if p.model.trim().is_empty() {
        return Err(ApiError::BadRequest("`model` must not be empty".into()));
    }
    if let Some(n) = body::positive_u32(obj, "max_tokens")? {
        p.max_tokens = n;
    }
    if let Some(n) = body::positive_u32(obj, "max_steps")? {
        p.max_steps = n;
    }
    if let Some(t) = body::nullable_f64(obj, "temperature")? {
        if t.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
            return Err(ApiError::BadRequest(
                "`temperature` must be between 0 and 2, or null".into(),
            ));
        }
        p.temperature = t;
    }
    Ok(())
}

fn validate_tools(tools: &[String]) -> Result<(), ApiError> {
    for (i, tool) in tools.iter().enumerate() {
        if !TOOL_NAMES.contains(&tool.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "`tools`: unknown tool `{tool}`; the tools are {}",
                TOOL_NAMES.join(", ")
            )));
        }
        if tools[..i].contains(tool) {
            return Err(ApiError::BadRequest(format!(
                "`tools` lists `{tool}` twice"
            )));
        }
    }
    Ok(())
}
