//! The unionid bridge: users known from a mini program (its openid + unionid) mapped to the
//! official account's openids through the unionid the follower sync stored. A mini-program openid
//! cannot receive the account's template messages; the follower's openid for the same person can.
//!
//! Why a row does not match, in the operator's terms:
//! - no unionid: the mini program is not bound to the open-platform account (开放平台), so WeChat
//!   gives it no unionid;
//! - unionid not among the followers: the person does not follow the official account (or the
//!   followers' details have not been synced yet — the report says how many lack details).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::import::{
    DuplicateRow, FirstWins, ImportOptions, ImportRow, LISTED_PROBLEMS, SAMPLE_ROWS, header_key,
    layout,
};
use super::table::{SourceFormat, Table};
use crate::error::{Error, Result};

const OPENID_HEADERS: &[&str] = &["openid", "小程序openid", "用户openid", "miniopenid"];
const UNIONID_HEADERS: &[&str] = &["unionid", "用户unionid"];

/// Name of the variable that keeps the mini-program openid on a saved list.
pub const MINI_OPENID_VAR: &str = "小程序openid";

/// Why a row did not match a follower (the UI words it in its language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Unmatched {
    /// The row has no unionid: the mini program is not bound to the open platform.
    NoUnionid,
    /// No follower has this unionid: the person does not follow the account.
    NotFollowing,
    /// A follower had this unionid but has unsubscribed.
    Unsubscribed,
}

/// A row that did not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UnmatchedRow {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub line: u64,
    pub mini_openid: String,
    pub unionid: String,
    pub why: Unmatched,
}

/// How a mini-program user file maps to the account's followers through unionid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BridgeReport {
    pub format: SourceFormat,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub rows_read: u64,
    /// Rows dropped because their unionid (or, without one, their openid) appeared earlier.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub duplicates_removed: u64,
    /// Of those, the matched rows whose values (mini-program openid, other columns) differ from
    /// the row kept for the same follower.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub conflicting_count: u64,
    /// The first [`LISTED_PROBLEMS`] of them, each beside the row kept, as a file import lists
    /// them (`openid` is the follower's).
    pub conflicting: Vec<DuplicateRow>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub matched: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub no_unionid: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub not_following: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub unsubscribed: u64,
    /// Followers of the account whose details (and so unionid) are not synced yet; non-zero
    /// means some "not following" rows may just be unsynced.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub followers_without_details: u64,
    /// The first [`LISTED_PROBLEMS`] rows that did not match.
    pub unmatched: Vec<UnmatchedRow>,
    /// Variables a saved list keeps: the mini-program openid, then the file's other columns.
    pub variables: Vec<String>,
    pub sample: Vec<ImportRow>,
}

/// The matched recipients (official-account openids) with their variables, and the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeResult {
    pub report: BridgeReport,
    pub rows: Vec<ImportRow>,
}

/// Maps a mini-program user table to the followers by unionid. `lookup` finds the follower with
/// a unionid (its openid, and whether it follows now); `followers_without_details` is reported
/// as is. Pure: the caller runs the lookups against the followers table.
pub fn bridge(
    table: &Table,
    opts: &ImportOptions,
    followers_without_details: u64,
    mut lookup: impl FnMut(&str) -> Result<Option<(String, bool)>>,
) -> Result<BridgeResult> {
    let lay = layout(table, opts, OPENID_HEADERS)?;
    let first = table.rows.first().map(|(_, r)| r.as_slice()).unwrap_or(&[]);
    let union_col = first
        .iter()
        .position(|h| UNIONID_HEADERS.contains(&header_key(h).as_str()))
        .filter(|_| lay.has_header)
        .ok_or_else(|| {
            Error::input(
                "找不到 unionid 列：请在第一行把该列命名为 unionid",
                "No unionid column found: name that column unionid in the first row.",
            )
        })?;
    if union_col == lay.openid_col {
        return Err(Error::input(
            "openid 列与 unionid 列不能是同一列",
            "The openid column and the unionid column cannot be the same column.",
        ));
    }
    let extra: Vec<usize> = (0..lay.names.len())
        .filter(|i| *i != lay.openid_col && *i != union_col)
        .collect();
    let mut variables = vec![MINI_OPENID_VAR.to_string()];
    variables.extend(extra.iter().map(|i| lay.names[*i].clone()));

    let data = &table.rows[1..];
    // Rows that did not match, by unionid (or, without one, mini-program openid): a repeat is
    // counted once. Matched rows go through the file import's own first-row-wins, keyed by the
    // follower's openid, so a repeat whose values differ is listed, not dropped unseen.
    let mut missed: HashSet<String> = HashSet::new();
    let mut kept = FirstWins::with_capacity(data.len());
    let mut report = BridgeReport {
        format: table.format,
        rows_read: data.len() as u64,
        duplicates_removed: 0,
        conflicting_count: 0,
        conflicting: Vec::new(),
        matched: 0,
        no_unionid: 0,
        not_following: 0,
        unsubscribed: 0,
        followers_without_details,
        unmatched: Vec::new(),
        variables,
        sample: Vec::new(),
    };
    for (line, cells) in data {
        let cell = |i: usize| cells.get(i).map_or("", String::as_str);
        let (mini, unionid) = (cell(lay.openid_col), cell(union_col));
        let why = if unionid.is_empty() {
            Unmatched::NoUnionid
        } else {
            match lookup(unionid)? {
                Some((openid, true)) => {
                    let mut values = vec![mini.to_string()];
                    values.extend(extra.iter().map(|i| cell(*i).to_string()));
                    if kept.offer(*line, ImportRow { openid, values }) {
                        report.matched += 1;
                    }
                    continue;
                }
                Some(_) => Unmatched::Unsubscribed,
                None => Unmatched::NotFollowing,
            }
        };
        let key = if unionid.is_empty() {
            format!("o:{mini}")
        } else {
            format!("u:{unionid}")
        };
        if !missed.insert(key) {
            report.duplicates_removed += 1;
            continue;
        }
        match why {
            Unmatched::NoUnionid => report.no_unionid += 1,
            Unmatched::NotFollowing => report.not_following += 1,
            Unmatched::Unsubscribed => report.unsubscribed += 1,
        }
        if report.unmatched.len() < LISTED_PROBLEMS {
            report.unmatched.push(UnmatchedRow {
                line: *line,
                mini_openid: mini.to_string(),
                unionid: unionid.to_string(),
                why,
            });
        }
    }
    report.duplicates_removed += kept.duplicates;
    report.conflicting_count = kept.conflicting_count;
    report.conflicting = kept.conflicting;
    report.sample = kept.rows.iter().take(SAMPLE_ROWS).cloned().collect();
    Ok(BridgeResult {
        report,
        rows: kept.rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience::import::parse_table;
    use crate::audience::table::read_bytes;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_repeated_user_whose_values_differ_is_listed_beside_the_row_kept_as_a_file_import_lists_it()
    {
        // uA is one follower read three times (once with other points), uC does not follow.
        let csv = "openid,unionid,积分\n\
                   oMini1,uA,10\n\
                   oMini1,uA,99\n\
                   oMini1,uA,10\n\
                   oMini2,uB,5\n\
                   oMini3,uC,1\n\
                   oMini3,uC,2\n";
        let table = read_bytes(csv.as_bytes()).unwrap();
        let r = bridge(&table, &ImportOptions::default(), 0, |u| {
            Ok(match u {
                "uA" => Some(("oFollowerA".to_string(), true)),
                "uB" => Some(("oFollowerB".to_string(), true)),
                _ => None,
            })
        })
        .unwrap();
        let p = &r.report;
        assert_eq!((p.matched, p.not_following), (2, 1));
        assert_eq!(
            p.duplicates_removed, 3,
            "every repeat is counted, identical or not, matched or not"
        );
        assert_eq!(
            p.conflicting_count, 1,
            "only line 3 differs from the row kept"
        );
        assert_eq!(
            p.conflicting,
            vec![DuplicateRow {
                openid: "oFollowerA".into(),
                kept_line: 2,
                kept_values: v(&["oMini1", "10"]),
                dropped_line: 3,
                dropped_values: v(&["oMini1", "99"]),
            }],
            "the follower's openid, both rows' lines and values, as the variables name them"
        );
        assert_eq!(
            r.rows[0].values,
            v(&["oMini1", "10"]),
            "the first row is saved"
        );
        assert_eq!(r.rows.len(), 2);

        // The file import lists the same repeat the same way.
        let plain = "openid,积分\noFollowerAxxxxxxxxxxxxxxxxx,10\noFollowerAxxxxxxxxxxxxxxxxx,99\n";
        let imported = parse_table(
            read_bytes(plain.as_bytes()).unwrap(),
            &ImportOptions::default(),
        )
        .unwrap()
        .preview;
        let c = &imported.conflicting[0];
        assert_eq!(
            (imported.conflicting_count, c.kept_line, c.dropped_line),
            (1, 2, 3)
        );
        assert_eq!(
            (c.kept_values.clone(), c.dropped_values.clone()),
            (v(&["10"]), v(&["99"]))
        );
    }
}
