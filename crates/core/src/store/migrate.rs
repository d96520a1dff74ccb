//! The migration runner: `PRAGMA user_version` holds the number of the last migration applied.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// One embedded migration. `version` is its number in the file name (0001_… → 1).
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. Numbers are dense and start at 1; see the convention in `store`.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init",
        sql: include_str!("migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_templates_audience",
        sql: include_str!("migrations/0002_templates_audience.sql"),
    },
    Migration {
        version: 3,
        name: "0003_send",
        sql: include_str!("migrations/0003_send.sql"),
    },
    Migration {
        version: 4,
        name: "0004_history_indexes",
        sql: include_str!("migrations/0004_history_indexes.sql"),
    },
    Migration {
        version: 5,
        name: "0005_interactions",
        sql: include_str!("migrations/0005_interactions.sql"),
    },
    Migration {
        version: 6,
        name: "0006_follower_sync_staging",
        sql: include_str!("migrations/0006_follower_sync_staging.sql"),
    },
    Migration {
        version: 7,
        name: "0007_parked_events",
        sql: include_str!("migrations/0007_parked_events.sql"),
    },
    Migration {
        version: 8,
        name: "0008_code",
        sql: include_str!("migrations/0008_code.sql"),
    },
    Migration {
        version: 9,
        name: "0009_subscriptions",
        sql: include_str!("migrations/0009_subscriptions.sql"),
    },
    Migration {
        version: 10,
        name: "0010_job_purpose",
        sql: include_str!("migrations/0010_job_purpose.sql"),
    },
    Migration {
        version: 11,
        name: "0011_compose_drafts",
        sql: include_str!("migrations/0011_compose_drafts.sql"),
    },
    Migration {
        version: 12,
        name: "0012_account_platform",
        sql: include_str!("migrations/0012_account_platform.sql"),
    },
    Migration {
        version: 13,
        name: "0013_follower_sync_deferred_indexes",
        sql: include_str!("migrations/0013_follower_sync_deferred_indexes.sql"),
    },
    Migration {
        version: 14,
        name: "0014_follower_sync_fetched_openid",
        sql: include_str!("migrations/0014_follower_sync_fetched_openid.sql"),
    },
];

/// A step in Rust that runs right after a migration's SQL, in its transaction: for what SQL
/// cannot compute.
type Fixup = fn(&Connection) -> rusqlite::Result<()>;

/// The fix-ups, by the version whose SQL they follow.
const FIXUPS: &[(i64, Fixup)] = &[(12, crate::accounts::db::backfill_sandbox_platform)];

fn fixups(conn: &Connection, version: i64) -> rusqlite::Result<()> {
    for (_, f) in FIXUPS.iter().filter(|(v, _)| *v == version) {
        f(conn)?;
    }
    Ok(())
}

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

pub(crate) fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the schema up to date, each migration in its own transaction together with the
/// `user_version` bump, so a crash leaves the database at a whole version. Refuses a database
/// that a newer wxdesk has written: running old code on a newer schema could corrupt it.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_with(conn, MIGRATIONS)
}

pub(crate) fn migrate_with(conn: &mut Connection, migrations: &[Migration]) -> Result<()> {
    let supported = migrations.last().map_or(0, |m| m.version);
    let found = user_version(conn)?;
    if found > supported {
        return Err(Error::SchemaTooNew { found, supported });
    }
    for m in migrations.iter().filter(|m| m.version > found) {
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql)
            .and_then(|()| fixups(&tx, m.version))
            .and_then(|()| tx.pragma_update(None, "user_version", m.version))
            .map_err(|source| Error::Migration {
                version: m.version,
                name: m.name,
                source,
            })?;
        tx.commit()?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_densely_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{} is out of sequence", m.name);
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{} misnamed",
                m.name
            );
        }
    }

    #[test]
    fn fresh_database_ends_at_latest_version_with_all_tables() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), latest_version());
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN \
                 ('platform_settings','accounts','relay_cursor','consumed_auth_codes','audit_log')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 5);
    }

    #[test]
    fn migrating_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), latest_version());
    }

    /// Jobs written before 0010 carry core's Chinese titles; after it they read back as their
    /// purpose with only the operator's part as the title.
    #[test]
    fn job_titles_core_made_become_purposes() {
        use crate::send::JobPurpose;
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_with(&mut conn, &MIGRATIONS[..9]).unwrap();
        let old = [
            ("template", "测试：11月发货通知"),
            ("custom_text", "客服消息"),
            ("custom_mini", "客服消息"),
            ("uniform", "统一服务消息"),
            ("template", "客服消息"),
            ("template", "发货通知"),
        ];
        for (kind, title) in old {
            conn.execute(
                "INSERT INTO send_jobs (appid, kind, title, payload, nonce, status, concurrency, \
                 rate_per_sec, max_attempts, created_at, updated_at) \
                 VALUES ('wxA', ?1, ?2, '{\"type\":\"custom_text\",\"content\":\"x\"}', 'n', \
                 'completed', 1, 1, 1, 0, 0)",
                [kind, title],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let read: Vec<(JobPurpose, String)> = conn
            .prepare("SELECT purpose, title FROM send_jobs ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            read,
            [
                (JobPurpose::Test, "11月发货通知".to_string()),
                (JobPurpose::Custom, String::new()),
                (JobPurpose::Custom, String::new()),
                (JobPurpose::Uniform, String::new()),
                // Not a kind core named so: the operator's own title.
                (JobPurpose::Plain, "客服消息".to_string()),
                (JobPurpose::Plain, "发货通知".to_string()),
            ]
        );
    }

    #[test]
    fn newer_schema_is_refused_with_both_versions_named() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", latest_version() + 5)
            .unwrap();
        match migrate(&mut conn) {
            Err(Error::SchemaTooNew { found, supported }) => {
                assert_eq!((found, supported), (latest_version() + 5, latest_version()));
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    }

    #[test]
    fn failing_migration_rolls_back_its_own_changes_and_version() {
        let bad: &[Migration] = &[
            Migration {
                version: 1,
                name: "0001_ok",
                sql: "CREATE TABLE a (x INTEGER);",
            },
            Migration {
                version: 2,
                name: "0002_bad",
                sql: "CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);",
            },
        ];
        let mut conn = Connection::open_in_memory().unwrap();
        let err = migrate_with(&mut conn, bad).unwrap_err();
        assert!(
            matches!(err, Error::Migration { version: 2, .. }),
            "{err:?}"
        );
        assert_eq!(user_version(&conn).unwrap(), 1);
        let b_exists: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            b_exists, 0,
            "table b must be rolled back with the failed migration"
        );
    }
}
