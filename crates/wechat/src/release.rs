//! The full-network release (全网发布) automated test, protocol section F: WeChat's dedicated
//! test accounts and the reserved message contents. A protocol fact kept in one place: the
//! relay decides from it which pushes it answers as test traffic, and the app which accounts it
//! never stores.

/// One of WeChat's release-test accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestAccount {
    /// The authorizer appid (the `$APPID$` segment of the message URL).
    pub appid: &'static str,
    /// The original id (`gh_…`, the ToUserName of its messages).
    pub original_id: &'static str,
    /// A mini program (else an official account).
    pub mini: bool,
}

const fn account(appid: &'static str, original_id: &'static str, mini: bool) -> TestAccount {
    TestAccount {
        appid,
        original_id,
        mini,
    }
}

/// Groups 1–5, the official account then the mini program of each. WeChat picks a group at
/// random (groups 2–5 in use since 2021-01-18), so all ten are recognised.
pub const TEST_ACCOUNTS: [TestAccount; 10] = [
    account("wx570bc396a51b8ff8", "gh_3c884a361561", false),
    account("wxd101a85aa106f53e", "gh_8dad206e9538", true),
    account("wx9252c5e0bb1836fc", "gh_c0f28a78b318", false),
    account("wxc39235c15087f6f3", "gh_905ae9d01059", true),
    account("wx8e1097c5bc82cde9", "gh_3f222ed8d140", false),
    account("wx7720d01d4b2a4500", "gh_393666f1fdf4", true),
    account("wx14550af28c71a144", "gh_26128078e9ab", false),
    account("wx05d483572dcd5d8b", "gh_39abb5d4e1b7", true),
    account("wxa35b9c23cfe664eb", "gh_2b3713f184a6", false),
    account("wx5910277cae6fd970", "gh_7818dcb60240", true),
];

/// Content of the passive-reply text case; the expected reply appends `_callback`.
pub const TEXT_CASE: &str = "TESTCOMPONENT_MSG_TYPE_TEXT";
/// Prefix of the API-reply case (`QUERY_AUTH_CODE:$query_auth_code$`).
pub const QUERY_AUTH_CODE_PREFIX: &str = "QUERY_AUTH_CODE:";

/// Whether an appid, or an original id, is one of the test accounts (either one suffices).
pub fn is_test_account(appid: &str, original_id: Option<&str>) -> bool {
    TEST_ACCOUNTS
        .iter()
        .any(|a| a.appid == appid || original_id.is_some_and(|o| o == a.original_id))
}

/// Whether `appid` and `original_id` are the same test account. The stricter check, for what
/// makes the platform spend API calls: the original id is inside the signed ciphertext, the
/// appid in the URL path, and genuine test traffic has both.
pub fn is_test_pair(appid: &str, original_id: &str) -> bool {
    TEST_ACCOUNTS
        .iter()
        .any(|a| a.appid == appid && a.original_id == original_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_id_names_a_test_account_but_a_pair_must_match() {
        assert!(is_test_account("wx570bc396a51b8ff8", None));
        assert!(is_test_account(
            "wx0000000000000001",
            Some("gh_7818dcb60240")
        ));
        assert!(!is_test_account(
            "wx0000000000000001",
            Some("gh_realaccount")
        ));
        assert!(is_test_pair("wx5910277cae6fd970", "gh_7818dcb60240"));
        // Two test ids of different accounts are not a pair.
        assert!(!is_test_pair("wx570bc396a51b8ff8", "gh_7818dcb60240"));
        assert!(!is_test_pair("wx0000000000000001", "gh_3c884a361561"));
    }

    #[test]
    fn each_group_has_an_official_account_and_a_mini_program() {
        for pair in TEST_ACCOUNTS.chunks(2) {
            assert_eq!((pair[0].mini, pair[1].mini), (false, true));
        }
    }
}
