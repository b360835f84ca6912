//! Integration tests at the boundary users see: the `nanopy` binary, its files and a fake
//! OpenAI-compatible server on 127.0.0.1.

mod support;

mod agent;
mod chat;
mod cli;
mod config;
mod conversations;
mod cron;
mod deliveries;
mod docs;
mod input;
mod local_models;
mod mcp;
mod memory;
mod provider;
mod providers;
mod schedules;
mod schema;
mod security;
mod soak;
