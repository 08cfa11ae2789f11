//! The abuse suite: each class of attack an anonymous client can mount, reproduced through HTTP,
//! checked by what a user would notice (the refusal and its code, the server still answering
//! others promptly, nothing left behind in `tmp/`, the database within its bound).

mod connections;
mod input;
mod media;
mod quotes;
