//! Integration tests: the real local server (every function's handler) over a real PostgreSQL,
//! with a fake GitHub on loopback. One file per function.

mod access;
mod auth;
mod cli;
mod fake_git;
mod fake_github;
mod faults;
mod git_json;
mod git_repo;
mod helpers;
mod incidents;
mod ingest;
mod located;
mod logs;
mod openapi;
mod projects;
mod retention;
mod schema;
mod schemathesis;
mod scrubbing;
mod security;
mod sentry;
mod serve;
mod sourcemaps;
mod sourcemaps_cli;
mod sourcemaps_nextjs;
mod translate;
mod uploads;
mod vercel;
