//! Bad input generated from the document itself: for every operation, each path, query and
//! header parameter given malformed values, and each request body broken property by property
//! (wrong types, missing, oversize, undersize, unknown) and as a whole (malformed JSON, wrong
//! media types, broken multipart). No answer may be a 5xx, and every answer must be one the
//! document describes for that operation and status, its body valid against the schema there.
//! The inputs are fixed lists: a failure always reproduces.

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::{send, Spec};
use crate::harness::*;
use crate::uploads::{multipart_type, raw_multipart, RawPart, BOUNDARY};

/// Bad values for a path or query parameter that is a number.
fn bad_numbers() -> Vec<String> {
    let mut v: Vec<String> = [
        "0",
        "-1",
        "+1",
        "1.5",
        "1e3",
        "0x10",
        "abc",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999",
        "%00",
        "%ff",
        "1%20",
    ]
    .map(String::from)
    .to_vec();
    v.push("9".repeat(3000));
    v
}

/// Bad values for a path parameter that is a string (a slug, a shard, a file name).
fn bad_strings() -> Vec<String> {
    let mut v: Vec<String> = [
        "B", "a-b", "0", "-1", "%00", "%ff", "%2F", "é", "a.b", "..a", "\u{202e}",
    ]
    .map(String::from)
    .to_vec();
    v.push("x".repeat(17));
    v.push("a".repeat(3000));
    v
}

/// Bad values for a query parameter.
fn bad_query_values() -> Vec<String> {
    let mut v = bad_numbers();
    v.extend(["", "%ff%fe", "true"].map(String::from));
    v
}

/// Bad values for a header parameter.
const BAD_HEADERS: [&str; 8] = [
    "",
    "abc",
    "-1",
    "99999999999999999999999",
    "*",
    "bytes=9-1",
    "bytes=0-1,5-6",
    "W/\"x\"",
];

/// Malformed JSON bodies (sent as `application/json`).
const BAD_JSON: [&[u8]; 10] = [
    b"",
    b"{",
    b"[]",
    b"null",
    b"\"x\"",
    b"17",
    b"{\"body\":",
    b"{\"body\":\"x\"}{}",
    b"{\"body\":\"x\",}",
    b"\xff\xfe\"",
];

enum Body {
    None,
    Json(Value),
    Raw(Option<String>, Vec<u8>),
}

struct Case {
    what: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Body,
}

/// The parameters of an operation, each as (in, name, schema type, required, example).
struct Param {
    location: String,
    name: String,
    kind: String,
    required: bool,
    example: String,
}

fn params(spec: &Spec, template: &str, method: &str) -> Vec<Param> {
    let item = &spec.doc()["paths"][template];
    let listed = |v: &Value| v.as_array().cloned().unwrap_or_default();
    listed(&item["parameters"])
        .into_iter()
        .chain(listed(&item[method]["parameters"]))
        .map(|p| {
            let p = spec.deref(&p).clone();
            let example = match &p["example"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            Param {
                location: p["in"].as_str().unwrap().to_owned(),
                name: p["name"].as_str().unwrap().to_owned(),
                kind: p["schema"]["type"].as_str().unwrap_or("string").to_owned(),
                required: p["required"] == true,
                example,
            }
        })
        .collect()
}

/// A request line from path values and query pairs.
fn line(template: &str, path: &[(String, String)], query: &[(String, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in path {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    if !query.is_empty() {
        let pairs: Vec<String> = query.iter().map(|(n, v)| format!("{n}={v}")).collect();
        out = format!("{out}?{}", pairs.join("&"));
    }
    out
}

/// The types a property's schema allows.
fn types(schema: &Value) -> Vec<String> {
    match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ if schema["enum"].is_array() => vec!["string".to_owned()],
        _ => Vec::new(),
    }
}

/// Values of the wrong type for a property.
fn wrong_types(schema: &Value) -> Vec<Value> {
    let allowed = types(schema);
    let candidates = [
        json!(17),
        json!(["x"]),
        json!("yes"),
        json!(true),
        json!({"a": 1}),
        Value::Null,
    ];
    candidates
        .into_iter()
        .filter(|v| {
            let t = match v {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(_) => "integer",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            !allowed.iter().any(|a| a == t)
        })
        .collect()
}

/// A valid value for a property, for the baseline body.
fn valid(schema: &Value) -> Value {
    if types(schema).iter().any(|t| t == "boolean") {
        json!(false)
    } else {
        json!("x")
    }
}

fn json_cases(schema: &Value, base: &Map<String, Value>, out: &mut Vec<(String, Body)>) {
    let props = schema["properties"].as_object().unwrap();
    let with = |name: &str, value: Value| {
        let mut body = base.clone();
        body.insert(name.to_owned(), value);
        Body::Json(Value::Object(body))
    };
    for (name, prop) in props {
        for value in wrong_types(prop) {
            out.push((format!("`{name}`: {value}"), with(name, value)));
        }
        if let Some(max) = prop["maxLength"].as_u64() {
            let over = "a".repeat(max as usize + 1);
            out.push((
                format!("`{name}` of {} chars", max + 1),
                with(name, json!(over)),
            ));
        }
        if let Some(min) = prop["minLength"].as_u64().filter(|m| *m > 0) {
            let under = "a".repeat(min as usize - 1);
            out.push((
                format!("`{name}` under minLength"),
                with(name, json!(under)),
            ));
        }
    }
    for name in schema["required"].as_array().unwrap() {
        let mut body = base.clone();
        body.remove(name.as_str().unwrap());
        out.push((format!("no `{name}`"), Body::Json(Value::Object(body))));
    }
    out.push(("an unknown property".into(), with("zz", json!(1))));
    for raw in BAD_JSON {
        let what = format!("JSON body {:?}", String::from_utf8_lossy(raw));
        out.push((
            what,
            Body::Raw(Some("application/json".into()), raw.to_vec()),
        ));
    }
    let valid = serde_json::to_vec(&Value::Object(base.clone())).unwrap();
    out.push(("no Content-Type".into(), Body::Raw(None, valid.clone())));
    out.push((
        "Content-Type text/plain".into(),
        Body::Raw(Some("text/plain".into()), valid),
    ));
    let huge = serde_json::to_vec(&json!({ "body": "a".repeat(130 * 1024) })).unwrap();
    out.push((
        "a JSON body over 128 KiB".into(),
        Body::Raw(Some("application/json".into()), huge),
    ));
}

fn form(parts: &[(&str, Option<&str>, Vec<u8>)]) -> Body {
    let raw: Vec<RawPart> = parts
        .iter()
        .map(|(n, f, b)| (*n, *f, b.as_slice()))
        .collect();
    Body::Raw(Some(multipart_type()), raw_multipart(&raw))
}

fn form_cases(schema: &Value, out: &mut Vec<(String, Body)>) {
    let props = schema["properties"].as_object().unwrap();
    let base = || vec![("body", None, b"x".to_vec())];
    for (name, prop) in props {
        let mut bad: Vec<(String, Vec<u8>)> = Vec::new();
        if let Some(max) = prop["maxLength"].as_u64() {
            bad.push((format!("{} chars", max + 1), vec![b'a'; max as usize + 1]));
        }
        if prop["enum"].is_array() {
            bad.push(("maybe".into(), b"maybe".to_vec()));
        }
        if prop["items"]["pattern"].is_string() {
            bad.push(("x".into(), b"x".to_vec()));
            bad.push(("7".into(), b"7".to_vec()));
        }
        for (what, value) in bad {
            let mut parts = base();
            parts.retain(|(n, _, _)| n != name);
            parts.push((name.as_str(), None, value));
            out.push((format!("multipart `{name}`: {what}"), form(&parts)));
        }
    }
    let mut parts = base();
    parts.push(("zz", None, b"1".to_vec()));
    out.push(("multipart with an unknown part".into(), form(&parts)));
    let mut parts = base();
    parts.push(("body", None, b"again".to_vec()));
    out.push(("multipart with `body` twice".into(), form(&parts)));
    let mut parts = base();
    parts.push(("file", Some("a.png"), b"not an image".to_vec()));
    out.push(("multipart with a text file as `file`".into(), form(&parts)));
    let parts = [("body", None, vec![0xff, 0xfe])];
    out.push(("multipart with invalid UTF-8 text".into(), form(&parts)));
    out.push(("an empty multipart body".into(), form(&[])));
    out.push((
        "multipart without a boundary".into(),
        Body::Raw(Some("multipart/form-data".into()), b"x".to_vec()),
    ));
    out.push((
        "multipart that ends early".into(),
        Body::Raw(
            Some(multipart_type()),
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nx")
                .into(),
        ),
    ));
}

/// Every generated case for one operation.
fn cases(spec: &Spec, method: &str, template: &str) -> Vec<Case> {
    let params = params(spec, template, method);
    let base_path: Vec<(String, String)> = params
        .iter()
        .filter(|p| p.location == "path")
        .map(|p| (p.name.clone(), p.example.clone()))
        .collect();
    let base_query: Vec<(String, String)> = params
        .iter()
        .filter(|p| p.location == "query" && p.required)
        .map(|p| (p.name.clone(), p.example.clone()))
        .collect();
    let op = &spec.doc()["paths"][template][method];
    let body = spec.deref(&op["requestBody"]);
    let json_schema = body["content"]["application/json"]["schema"].clone();
    let json_schema = spec.deref(&json_schema).clone();
    let base_body = match json_schema["required"].as_array() {
        Some(required) => {
            let props = &json_schema["properties"];
            let map: Map<String, Value> = required
                .iter()
                .map(|n| {
                    let n = n.as_str().unwrap();
                    (n.to_owned(), valid(&props[n]))
                })
                .collect();
            Some(map)
        }
        None => None,
    };
    let base_body_value = || match &base_body {
        Some(map) => Body::Json(Value::Object(map.clone())),
        None => Body::None,
    };
    let case = |what: String, path: &[(String, String)], query: &[(String, String)]| Case {
        what,
        path: line(template, path, query),
        headers: Vec::new(),
        body: base_body_value(),
    };

    let mut out = Vec::new();
    for p in &params {
        let values = match (p.location.as_str(), p.kind.as_str()) {
            ("path", "integer") => bad_numbers(),
            ("path", _) => bad_strings(),
            ("query", _) => bad_query_values(),
            _ => BAD_HEADERS.map(String::from).to_vec(),
        };
        for value in values {
            let what = format!("{} `{}` = {value:?}", p.location, p.name);
            let set = |list: &[(String, String)]| -> Vec<(String, String)> {
                let mut list = list.to_vec();
                list.retain(|(n, _)| *n != p.name);
                list.push((p.name.clone(), value.clone()));
                list
            };
            match p.location.as_str() {
                "path" => out.push(case(what, &set(&base_path), &base_query)),
                "query" => out.push(case(what, &base_path, &set(&base_query))),
                _ => {
                    let mut c = case(what, &base_path, &base_query);
                    c.headers.push((p.name.clone(), value.clone()));
                    out.push(c);
                }
            }
        }
        if p.location == "query" {
            let mut twice = base_query.clone();
            twice.push((p.name.clone(), "1".into()));
            twice.push((p.name.clone(), "1".into()));
            out.push(case(
                format!("query `{}` twice", p.name),
                &base_path,
                &twice,
            ));
            if p.required {
                let without: Vec<_> = base_query
                    .iter()
                    .filter(|(n, _)| *n != p.name)
                    .cloned()
                    .collect();
                out.push(case(format!("no query `{}`", p.name), &base_path, &without));
            }
        }
    }
    for unknown in ["zz=1", "zz", "=1"] {
        let mut c = case(format!("unknown query {unknown}"), &base_path, &base_query);
        let sep = if c.path.contains('?') { '&' } else { '?' };
        c.path = format!("{}{sep}{unknown}", c.path);
        out.push(c);
    }

    let mut bodies = Vec::new();
    if let Some(base) = &base_body {
        json_cases(&json_schema, base, &mut bodies);
    }
    let form_schema = body["content"]["multipart/form-data"]["schema"].clone();
    if !form_schema.is_null() {
        form_cases(spec.deref(&form_schema), &mut bodies);
    }
    for (what, body) in bodies {
        let mut c = case(what, &base_path, &base_query);
        c.body = body;
        out.push(c);
    }
    out
}

#[tokio::test]
async fn generated_bad_input_gets_documented_answers_and_no_5xx() {
    let s = Server::start().await;
    let spec = Spec::fetch(&s).await;
    // The document's examples name board b, thread 1 and post 1: make them exist. The baseline
    // deletion password is not this one, so no generated request deletes the thread.
    let r = s
        .post(
            "/api/boards/b/threads",
            json!({"body": "target", "password": "the-real-one"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], 1);

    let mut failures = Vec::new();
    let mut sent = 0;
    for (method, template) in spec.operations() {
        let http_method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        for c in cases(&spec, &method, &template) {
            let mut req = s.client.request(http_method.clone(), s.url(&c.path));
            for (name, value) in &c.headers {
                req = req.header(name.as_str(), value.as_str());
            }
            req = match c.body {
                Body::None => req,
                Body::Json(v) => req.json(&v),
                Body::Raw(content_type, bytes) => {
                    if let Some(ct) = content_type {
                        req = req.header("content-type", ct);
                    }
                    req.body(bytes)
                }
            };
            let a = send(req).await;
            sent += 1;
            let what = format!("{method} {template}, {}", c.what);
            if a.status.is_server_error() {
                failures.push(format!(
                    "{what}: {} {}",
                    a.status,
                    String::from_utf8_lossy(&a.body)
                ));
            } else if let Err(e) = spec.conforms(&http_method, &c.path, &a) {
                failures.push(format!("{what}: {e}"));
            } else if a.status.is_client_error() && a.code().is_empty() && a.status != 416 {
                failures.push(format!("{what}: {} without an error body", a.status));
            }
        }
    }
    assert!(sent > 500, "only {sent} requests generated");
    assert!(
        failures.is_empty(),
        "{} of {sent} answers were wrong; the first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    // The generated requests left the server whole.
    let r = s.get("/api/boards/b/threads/1").await;
    assert_eq!(r.status, 200, "{}", r.json);
}
