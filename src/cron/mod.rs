//! The scheduler: pure schedules, the SQLite job store, and the runner that fires jobs.

pub mod runner;
pub mod schedule;
pub mod store;
