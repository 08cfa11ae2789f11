//! The end-to-end suite: starts the real `wani` binary on a free loopback port with a fresh data
//! directory and drives it only through HTTP, as a client would. Fixed payloads, no backdoors.

mod garage;
mod harness;
mod mail;
mod session;

mod abuse;
mod admin_boards;
mod auth;
mod backup;
mod bans;
mod board_life;
mod boards;
mod caching;
mod captcha;
mod cli;
mod compression;
mod deploy;
mod durability;
mod filtering;
mod flood;
mod fourchan;
mod live;
mod moderation;
mod openapi;
mod posting;
mod reading;
mod stats;
mod thread_actions;
mod uploads;
mod validation;
mod web;
