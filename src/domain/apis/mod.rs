//! The API registry: the APIs behind the gateway.

pub mod directory;
