//! HTTP plumbing: the server loop, the route table, request and response helpers, and the
//! API's OpenAPI document.

pub mod io;
pub mod openapi;
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
