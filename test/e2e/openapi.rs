//! The served OpenAPI document against the server: every answer of a session that uses every
//! documented operation must be documented for its path, method and status and validate against
//! the schema given there; generated bad input (`robustness`) must never get a 5xx nor an
//! answer the document does not describe.

mod admin_boards;
mod bans;
mod filtering;
mod moderation;
mod robustness;
mod session;
mod thread_actions;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

use crate::harness::*;

/// The document as served, with compiled validators for the schemas it gives.
pub struct Spec {
    doc: Value,
    /// `components.schemas` with every `#/components/schemas/X` rewritten to `#/$defs/X`, so a
    /// schema taken out of the document validates on its own.
    defs: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    /// `(method, template, status)` of every checked answer.
    seen: Mutex<BTreeSet<(String, String, u16)>>,
}

/// An answer, with its body unread when it is an event stream (which never ends).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

/// Sends a request and reads the answer; an event stream's body is left unread.
pub async fn send(req: RequestBuilder) -> Answer {
    let resp = req.send().await.expect("request failed");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = if is(&headers, "text/event-stream") {
        Vec::new()
    } else {
        resp.bytes().await.expect("reading body").to_vec()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn is(headers: &HeaderMap, media_type: &str) -> bool {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    content_type.split(';').next().unwrap_or("").trim() == media_type
}

/// Rewrites refs to components into refs to `$defs`.
fn rewrite(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix("#/components/schemas/") {
                            *r = format!("#/$defs/{name}");
                        }
                    }
                    (_, v) => rewrite(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite),
        _ => {}
    }
}

pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl Spec {
    /// Fetches `/api/openapi.json` and checks how it is served.
    pub async fn fetch(s: &Server) -> Spec {
        let a = send(s.client.get(s.url("/api/openapi.json"))).await;
        assert_eq!(a.status, 200);
        assert!(is(&a.headers, "application/json"), "{:?}", a.headers);
        let etag = a.header("etag").to_owned();
        assert!(
            etag.starts_with('"') && etag.len() > 2,
            "a strong ETag: {etag}"
        );
        let doc: Value = serde_json::from_slice(&a.body).expect("the document is JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let again = send(
            s.client
                .get(s.url("/api/openapi.json"))
                .header("if-none-match", &etag),
        )
        .await;
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());

        let mut defs = doc["components"]["schemas"].clone();
        rewrite(&mut defs);
        Spec {
            doc,
            defs,
            validators: Mutex::new(HashMap::new()),
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// Every documented `(method, template)`.
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut ops = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if METHODS.contains(&method.as_str()) {
                    ops.push((method.clone(), path.clone()));
                }
            }
        }
        ops
    }

    /// A local `$ref` resolved; anything else as it is.
    pub fn deref<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value["$ref"].as_str() {
            Some(r) => self
                .doc
                .pointer(r.strip_prefix('#').unwrap())
                .unwrap_or_else(|| panic!("dangling $ref {r}")),
            None => value,
        }
    }

    /// The documented template a concrete path falls under.
    pub fn template(&self, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap();
        let segments: Vec<&str> = path.split('/').collect();
        self.doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .find(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                parts.len() == segments.len()
                    && parts.iter().zip(&segments).all(|(t, s)| {
                        (t.starts_with('{') && t.ends_with('}') && !s.is_empty()) || t == s
                    })
            })
            .cloned()
    }

    /// A validator for `schema` (a schema of the document), compiled once per `key`.
    fn validator(&self, key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
        let mut validators = self.validators.lock().unwrap();
        if let Some(v) = validators.get(key) {
            return v.clone();
        }
        let mut schema = schema.clone();
        rewrite(&mut schema);
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": self.defs,
            "allOf": [schema],
        });
        let validator = jsonschema::draft202012::new(&root)
            .unwrap_or_else(|e| panic!("the schema for {key} does not compile: {e}"));
        let validator = Arc::new(validator);
        validators.insert(key.to_owned(), validator.clone());
        validator
    }

    /// Validates `value` against `schema`; the errors, with where they are, joined.
    pub fn validate(&self, key: &str, schema: &Value, value: &Value) -> Result<(), String> {
        let validator = self.validator(key, schema);
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("{e} (at `{}`)", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{key}: {}; body {value}", errors.join("; ")))
        }
    }

    /// Validates `value` against the named component schema.
    pub fn validate_component(&self, name: &str, value: &Value) -> Result<(), String> {
        let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
        self.validate(name, &schema, value)
    }

    /// Whether the document describes this answer to `method path`: the status is listed for
    /// the operation, the media type is one it lists, and a JSON body validates against the
    /// schema given for it.
    pub fn conforms(&self, method: &Method, path: &str, a: &Answer) -> Result<(), String> {
        let template = self
            .template(path)
            .ok_or_else(|| format!("{method} {path}: no documented path"))?;
        let m = if *method == Method::HEAD {
            "get".to_owned()
        } else {
            method.as_str().to_lowercase()
        };
        let op = &self.doc["paths"][&template][&m];
        if op.is_null() {
            return Err(format!("{method} {template}: not documented"));
        }
        let status = a.status.as_u16();
        let response = op["responses"]
            .get(status.to_string())
            .map(|r| self.deref(r))
            .ok_or_else(|| {
                format!(
                    "{method} {path}: status {status} is not documented for {m} {template} \
                     (body {})",
                    String::from_utf8_lossy(&a.body)
                )
            })?;
        let place = format!("{m} {template} {status}");
        let content = &response["content"];
        if a.body.is_empty() {
            let media = a.header("content-type");
            let streamed = is(&a.headers, "text/event-stream");
            if streamed && content.get("text/event-stream").is_none() {
                return Err(format!("{place}: an event stream is not documented"));
            }
            if !streamed && content.is_object() && *method != Method::HEAD {
                return Err(format!(
                    "{place}: documented with a body, got none ({media})"
                ));
            }
        } else if is(&a.headers, "application/json") {
            let schema = &content["application/json"]["schema"];
            if schema.is_null() {
                return Err(format!("{place}: a JSON body is not documented"));
            }
            let value: Value = serde_json::from_slice(&a.body)
                .map_err(|e| format!("{place}: the body is not JSON: {e}"))?;
            self.validate(&place, schema, &value)?;
        } else {
            let media = a.header("content-type");
            if content.get(media).is_none() {
                return Err(format!("{place}: content type `{media}` is not documented"));
            }
        }
        self.seen.lock().unwrap().insert((m, template, status));
        Ok(())
    }

    /// Sends a request, asserts the answer has `status` and conforms, and returns it.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        req: RequestBuilder,
        status: u16,
    ) -> Answer {
        let a = send(req).await;
        assert_eq!(
            a.status.as_u16(),
            status,
            "{method} {path}: {}",
            String::from_utf8_lossy(&a.body)
        );
        if let Err(e) = self.conforms(&method, path, &a) {
            panic!("{e}");
        }
        a
    }

    /// The `(method, template)` pairs seen with a 2xx status.
    pub fn succeeded(&self) -> BTreeSet<(String, String)> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(_, _, status)| (200..300).contains(status))
            .map(|(m, t, _)| (m.clone(), t.clone()))
            .collect()
    }
}

/// A request builder for `method path` on `s`.
pub fn request(s: &Server, method: &Method, path: &str) -> RequestBuilder {
    s.client.request(method.clone(), s.url(path))
}
