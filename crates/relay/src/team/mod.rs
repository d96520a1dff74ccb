//! Team mode: the relay as the team server over PostgreSQL (issue #17). This first piece is the
//! test harness every team-mode test stands on: a throwaway PostgreSQL cluster of its own.

#[cfg(feature = "pg-testing")]
pub mod testing;
