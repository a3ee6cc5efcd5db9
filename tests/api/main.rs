//! Integration tests: the real local server (every function's handler) over a real PostgreSQL,
//! with a fake GitHub on loopback. One file per function.

mod auth;
mod cli;
mod fake_github;
mod faults;
mod helpers;
mod incidents;
mod ingest;
mod logs;
mod openapi;
mod projects;
mod retention;
mod schema;
mod schemathesis;
mod security;
mod sentry;
mod serve;
mod vercel;
