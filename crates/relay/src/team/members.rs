//! Members of a team: a name, a role and a key. The key is shown once when the member is added
//! and only its SHA-256 is stored; every request looks its key up, so a removed member is
//! refused from the next request on.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::db::Db;
use crate::error::{Error, Result};

/// What a member may do. Ordered: each role may do everything the ones below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the shared workspace.
    Viewer,
    /// Also authorizes accounts, syncs, makes lists and sends.
    Operator,
    /// Also platform settings and members.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A member as the server knows them (never the key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    pub name: String,
    pub role: Role,
}

/// Prefix of every member key, so a leaked one is recognisable in a scan.
const KEY_PREFIX: &str = "wxm_";

fn key_hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.trim().as_bytes()).to_vec()
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && !name.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(Error::Team(
            "成员名应为 1–64 个字符，不含空格 / a member name is 1-64 characters without spaces"
                .into(),
        ))
    }
}

/// Adds a member and returns their new key (shown once; only its hash is stored).
pub async fn add(db: &Db, name: &str, role: Role) -> Result<String> {
    check_name(name)?;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let key = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw));
    let conn = db.get().await?;
    let added = conn
        .execute(
            "INSERT INTO team_members (name, role, key_hash) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
            &[&name, &role.as_str(), &key_hash(&key)],
        )
        .await?;
    if added == 0 {
        return Err(Error::Team(format!(
            "成员 {name} 已存在；要换新密钥请先 members remove {name} / member {name} already \
             exists; to issue a new key, remove it first"
        )));
    }
    audit(
        db,
        None,
        "member.add",
        serde_json::json!({"name": name, "role": role}),
    )
    .await?;
    Ok(key)
}

/// Every member, by name, with when they were added (RFC 3339).
pub async fn list(db: &Db) -> Result<Vec<(Member, String)>> {
    let conn = db.get().await?;
    let rows = conn
        .query(
            "SELECT name, role, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
             FROM team_members ORDER BY name",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let role = Role::parse(r.get::<_, &str>(1))?;
            Some((
                Member {
                    name: r.get(0),
                    role,
                },
                r.get(2),
            ))
        })
        .collect())
}

/// Removes a member; their key is refused from the next request on. `false` if no such member.
pub async fn remove(db: &Db, name: &str) -> Result<bool> {
    let conn = db.get().await?;
    let n = conn
        .execute("DELETE FROM team_members WHERE name = $1", &[&name])
        .await?;
    if n > 0 {
        audit(db, None, "member.remove", serde_json::json!({"name": name})).await?;
    }
    Ok(n > 0)
}

/// The member holding `key`, if any.
pub async fn authenticate(db: &Db, key: &str) -> Result<Option<Member>> {
    if !key.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    let conn = db.get().await?;
    let row = conn
        .query_opt(
            "SELECT name, role FROM team_members WHERE key_hash = $1",
            &[&key_hash(key)],
        )
        .await?;
    Ok(row.and_then(|r| {
        Some(Member {
            name: r.get(0),
            role: Role::parse(r.get::<_, &str>(1))?,
        })
    }))
}

/// Records who did what (`member` None: the server's operator at its shell).
pub async fn audit(
    db: &Db,
    member: Option<&str>,
    action: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let conn = db.get().await?;
    conn.execute(
        "INSERT INTO team_audit (member, action, detail) VALUES ($1, $2, $3)",
        &[&member, &action, &tokio_postgres::types::Json(&detail)],
    )
    .await?;
    Ok(())
}
