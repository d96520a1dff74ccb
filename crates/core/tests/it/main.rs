//! wxdesk-core's integration tests, one module per area, in one test binary. Each binary links
//! all of core, the sim and the relay; on a 2-core machine linking ~40 of them took minutes of
//! every workspace test build, one takes one link (#15).
//!
//! Tests here share a process (and libtest's thread pool), so none may change process-global
//! state: no `std::env::set_var`, no global tracing subscriber, no `set_current_dir`. A test that
//! needs such state lives in a binary of its own (tests/no_secret_leaks.rs installs the global
//! subscriber). Tests that re-run this binary as a child process name their test with
//! [`this_test!`], since libtest's name now carries the module path.
#![allow(clippy::unwrap_used)] // a panic is how a test fails

/// libtest's name for the test function `$f` of the calling module (`send_crash::a_kill_…`),
/// for re-running this binary on exactly that test with `--exact`. An `--exact` that matches no
/// test runs nothing and exits 0, so the function is named as an item: a renamed or moved test
/// breaks the build instead of leaving the child silently idle.
macro_rules! this_test {
    ($f:ident) => {{
        let _ = $f;
        $crate::libtest_name(module_path!(), stringify!($f))
    }};
}

/// `module_path!()` starts with the crate's name, which libtest leaves out of test names.
pub fn libtest_name(module_path: &str, function: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, path)) => format!("{path}::{function}"),
        None => function.to_string(),
    }
}

mod audience_support;
mod code_support;
mod messaging_support;
mod reliability_support;
mod send_support;
mod support;

mod audience_bridge;
mod audience_followers;
mod audience_import;
mod audience_sync;
mod audience_sync_kills;
mod auth_journey;
mod backup_restore_live;
mod chains;
mod code_crash;
mod code_rollout;
mod code_single;
mod interactions_window;
mod keychain_sandbox;
mod messaging_send;
mod messaging_subscribe;
mod messaging_tools;
mod platform_archive;
mod reliability_backup;
mod reliability_faults;
mod reliability_kills;
mod reliability_tokens;
mod reliability_tokens_processes;
mod send_crash;
mod send_durability;
mod send_engine;
mod send_faces;
mod send_failures;
mod send_history;
mod send_host;
mod send_numbers;
mod send_quota;
mod send_refusals;
mod send_sim;
mod send_team;
mod templates_keywords;
mod templates_sync;
