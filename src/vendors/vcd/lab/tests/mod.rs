//! In-process tests of the simulator through its router, one module per area.

mod auth;
mod entities;
mod migration;
mod tasks;
