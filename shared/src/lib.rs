//! cairn's core crate: everything the Lambda functions and the local server share. Handlers in
//! the function crates parse a request, call one use case here, and turn the result into a
//! response.

pub mod app;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod event;
pub mod github;
pub mod hooks;
pub mod http;
pub mod incidents;
pub mod ingest;
pub mod linemap;
pub mod localpg;
pub mod openapi;
pub mod projects;
pub mod retention;
pub mod scrub;
pub mod sentry;
pub mod sourcemaps;
pub mod stack;
pub mod translate;
pub mod vercel;

pub use app::App;
pub use error::ApiError;
