//! HTTP plumbing: the server loop, the request pipeline, the route table, request and response
//! helpers, and the API's OpenAPI document. The handlers themselves live in `api/` (the JSON
//! API by resource), `fourchan/`, `files/` and `web/`.

pub mod encoding;
pub mod io;
pub mod openapi;
pub mod pipeline;
pub mod request;
pub mod response;
pub mod route;
pub mod server;
pub mod slots;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;

/// The response body type of every route: boxed so that later routes can stream files.
pub type Body = BoxBody<Bytes, std::io::Error>;
pub type Response = hyper::Response<Body>;
