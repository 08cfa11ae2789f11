//! The end-to-end suite: starts the real `wani` binary on a free loopback port with a fresh data
//! directory and drives it only through HTTP, as a client would. Fixed payloads, no backdoors.

mod harness;

mod boards;
mod caching;
mod cli;
mod durability;
mod posting;
mod reading;
mod validation;
