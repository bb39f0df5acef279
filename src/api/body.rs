//! Reading JSON request bodies field by field, so every error names its field.
//!
//! A body is parsed as JSON whatever its Content-Type says (`curl -d` sends
//! form-encoded by default). Unknown fields are ignored; wrong types are a 400.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::http::Request;

pub type Object = Map<String, Value>;

/// The body as a JSON object. An empty body is `{}` when `optional`.
pub fn object(request: &Request, optional: bool) -> Result<Object, ApiError> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return if optional {
            Ok(Object::new())
        } else {
            Err(ApiError::BadRequest(
                "the request body is empty: send a JSON object".into(),
            ))
        };
    }
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest(
            "the request body must be a JSON object".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

fn bad(field: &str, what: &str) -> ApiError {
    ApiError::BadRequest(format!("`{field}` must be {what}"))
}

/// Absent → `None`; `null` → `Some(None)`; a value → `Some(Some(v))`.
fn present<'a>(obj: &'a Object, field: &str) -> Option<Option<&'a Value>> {
    obj.get(field)
        .map(|v| if v.is_null() { None } else { Some(v) })
}

/// A string field; absent or null → `None`.
pub fn string(obj: &Object, field: &str) -> Result<Option<String>, ApiError> {
    Ok(nullable_string(obj, field)?.flatten())
}

/// A string field that may be set to null: absent → `None`, null → `Some(None)`.
pub fn nullable_string(obj: &Object, field: &str) -> Result<Option<Option<String>>, ApiError> {
    match present(obj, field) {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(Value::String(s))) => Ok(Some(Some(s.clone()))),
        Some(Some(_)) => Err(bad(field, "a string")),
    }
}

/// A positive integer that fits in 32 bits; absent or null → `None`.
pub fn positive_u32(obj: &Object, field: &str) -> Result<Option<u32>, ApiError> {
    match present(obj, field).flatten() {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 && n <= u64::from(u32::MAX) => Ok(Some(n as u32)),
            _ => Err(bad(field, "a positive integer (at most 4294967295)")),
        },
    }
}

/// A number that may be set to null.
pub fn nullable_f64(obj: &Object, field: &str) -> Result<Option<Option<f64>>, ApiError> {
    match present(obj, field) {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(v)) => v
            .as_f64()
            .map(|n| Some(Some(n)))
            .ok_or_else(|| bad(field, "a number or null")),
    }
}

/// An array of strings; absent or null → `None`.
pub fn string_list(obj: &Object, field: &str) -> Result<Option<Vec<String>>, ApiError> {
    match present(obj, field).flatten() {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(field, "an array of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad(field, "an array of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;
    use serde_json::json;

    fn req(body: &str) -> Request {
        Request::new(Method::Post, "/x", vec![], body.as_bytes().to_vec())
    }

    #[test]
    fn bodies() {
        assert_eq!(object(&req(" "), true).unwrap(), Object::new());
        assert_eq!(
            object(&req(""), false).unwrap_err().to_string(),
            "the request body is empty: send a JSON object"
        );
        assert_eq!(
            object(&req("[1]"), false).unwrap_err().to_string(),
            "the request body must be a JSON object"
        );
        assert!(
            object(&req("{"), false)
                .unwrap_err()
                .to_string()
                .starts_with("the request body is not valid JSON")
        );
    }

    #[test]
    fn fields_name_themselves() {
        let Value::Object(o) =
            json!({"s": "x", "n": 3, "z": 0, "f": 1.5, "null": null, "l": ["a"], "bad": [1]})
        else {
            unreachable!()
        };
        assert_eq!(string(&o, "s").unwrap(), Some("x".into()));
        assert_eq!(string(&o, "missing").unwrap(), None);
        assert_eq!(nullable_string(&o, "null").unwrap(), Some(None));
        assert_eq!(
            string(&o, "n").unwrap_err().to_string(),
            "`n` must be a string"
        );
        assert_eq!(positive_u32(&o, "n").unwrap(), Some(3));
        assert_eq!(
            positive_u32(&o, "z").unwrap_err().to_string(),
            "`z` must be a positive integer (at most 4294967295)"
        );
        assert_eq!(
            positive_u32(&o, "f").unwrap_err().to_string(),
            "`f` must be a positive integer (at most 4294967295)"
        );
        assert_eq!(nullable_f64(&o, "f").unwrap(), Some(Some(1.5)));
        assert_eq!(
            nullable_f64(&o, "s").unwrap_err().to_string(),
            "`s` must be a number or null"
        );
        assert_eq!(string_list(&o, "l").unwrap(), Some(vec!["a".to_string()]));
        assert_eq!(
            string_list(&o, "bad").unwrap_err().to_string(),
            "`bad` must be an array of strings"
        );
    }
}
