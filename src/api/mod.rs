//! Routes and handlers: one exhaustive `match` on the path segments, then on
//! the method. Unknown paths are 404, a known path with another method is 405
//! (with `Allow`). Handlers return `Result<Response, ApiError>`; the error's one
//! mapping to a status lives in `error.rs`.

mod agents;
mod body;
mod messages;
pub mod openapi;
mod providers;
mod sessions;

use std::sync::Arc;

use crate::app::App;
use crate::error::ApiError;
use crate::http::{Method, Request, Response};

pub fn handle(app: &Arc<App>, request: &Request) -> Response {
    route(app, request).into()
}

fn route(app: &Arc<App>, req: &Request) -> Result<Response, ApiError> {
    use Method::{Delete, Get, Post, Put};
    let segments: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let method = &req.method;
    let not_allowed = |allow: &'static [&'static str]| {
        Err(ApiError::MethodNotAllowed {
            method: method.as_str().to_string(),
            path: req.path.clone(),
            allow,
        })
    };
    match segments.as_slice() {
        ["health"] => match method {
            Get => Ok(Response::ok(
                &serde_json::json!({"status": "ok", "version": crate::cli::VERSION}),
            )),
            _ => not_allowed(&["GET"]),
        },
        ["openapi.json"] => match method {
            Get => Ok(Response::ok(openapi::spec())),
            _ => not_allowed(&["GET"]),
        },
        ["provider"] => match method {
            Get => providers::list(app),
            _ => not_allowed(&["GET"]),
        },
        ["provider", "auth"] => match method {
            Get => providers::auth_status(app),
            Put => providers::set_auth(app, req),
            _ => not_allowed(&["GET", "PUT"]),
        },
        ["provider", "auth", name] => match method {
            Delete => providers::delete_auth(app, name),
            _ => not_allowed(&["DELETE"]),
        },
        ["provider", name] => match method {
            Get => providers::get(app, name),
            _ => not_allowed(&["GET"]),
        },
        ["provider", name, "models"] => match method {
            Get => providers::models(app, name),
            _ => not_allowed(&["GET"]),
        },
        // Model ids may contain '/': everything after /models/ is the id.
        ["provider", name, "models", id @ ..] => match method {
            Get => providers::model(app, name, &id.join("/")),
            _ => not_allowed(&["GET"]),
        },
        ["agents"] => match method {
            Get => agents::list(app),
            Post => agents::create(app, req),
            _ => not_allowed(&["GET", "POST"]),
        },
        ["agents", id] => match method {
            Get => agents::get(app, id),
            Put => agents::update(app, id, req),
            Delete => agents::delete(app, id),
            _ => not_allowed(&["GET", "PUT", "DELETE"]),
        },
        ["sessions"] => match method {
            Get => sessions::list(app),
            Post => sessions::create(app, req),
            _ => not_allowed(&["GET", "POST"]),
        },
        ["sessions", id] => match method {
            Get => sessions::get(app, id),
            Put => sessions::update(app, id, req),
            Delete => sessions::delete(app, id),
            _ => not_allowed(&["GET", "PUT", "DELETE"]),
        },
        ["sessions", id, "message"] => match method {
            Post => messages::send(app, id, req),
            _ => not_allowed(&["POST"]),
        },
        ["sessions", id, "message", "stream"] => match method {
            Post => messages::stream(app, id, req),
            _ => not_allowed(&["POST"]),
        },
        ["sessions", id, "abort"] => match method {
            Post => sessions::abort(app, id),
            _ => not_allowed(&["POST"]),
        },
        _ => Err(ApiError::NotFound(format!(
            "no route for {} {}",
            method.as_str(),
            req.path
        ))),
    }
}

fn deleted() -> Response {
    Response::ok(&serde_json::json!({"status": "deleted"}))
}
