//! The world the sim serves, generated from `seed`: official accounts and mini programs, their
//! principals, followers (computed, never stored), tags and who messaged recently.

use std::collections::HashMap;

use crate::ids::{self, IdCodec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Service,
    Subscription,
    MiniProgram,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Subscription => "subscription",
            Kind::MiniProgram => "miniprogram",
        }
    }
    pub fn is_official(self) -> bool {
        self != Kind::MiniProgram
    }
}

#[derive(Debug)]
pub struct Account {
    pub index: u16,
    pub appid: String,
    /// The original id (gh_…), the ToUserName of its pushes.
    pub user_name: String,
    pub nickname: String,
    pub kind: Kind,
    pub verified: bool,
    pub principal: u32,
    pub principal_name: String,
    /// The account's own AppSecret, for `cgi-bin/token` (sim-only, deterministic).
    pub appsecret: String,
    pub alias: String,
    pub signature: String,
    pub followers: u32,
    pub openids: IdCodec,
    /// One of WeChat's 全网发布 test accounts (protocol F): not listed to admins or in state.
    pub release_test: bool,
}

impl Account {
    /// Template messages need a verified service account (protocol C.6).
    pub fn can_send_templates(&self) -> bool {
        self.kind == Kind::Service && self.verified
    }
    pub fn service_type_id(&self) -> i64 {
        match self.kind {
            Kind::Service => 2,
            Kind::Subscription | Kind::MiniProgram => 0,
        }
    }
    pub fn verify_type_id(&self) -> i64 {
        if self.verified { 0 } else { -1 }
    }
}

/// What the world knows about follower `index` of an account.
#[derive(Debug, Clone, PartialEq)]
pub enum Person {
    /// Follows the account now.
    Follower(u32),
    /// Used to follow and unsubscribed (subscribe: 0): sending to them gives 43004.
    Former(u32),
}

/// WeChat's 全网发布 test official account and mini program (group 2 of protocol F).
pub const RELEASE_TEST_MP: (&str, &str) = ("wx9252c5e0bb1836fc", "gh_c0f28a78b318");
pub const RELEASE_TEST_MINI: (&str, &str) = ("wxc39235c15087f6f3", "gh_905ae9d01059");

const BRANDS: &[&str] = &[
    "星辰物流",
    "青禾书店",
    "云朵小厨",
    "蓝海旅行",
    "晨光健身",
    "小满花坊",
    "橙子便利",
    "北辰医药",
    "南山茶舍",
    "海风数码",
    "知味面馆",
    "安心家政",
];

const TAG_NAMES: &[&str] = &["老客户", "新客户", "会员", "华南地区", "活动参与者"];

/// A tag shared by the generated followers: a follower has it iff `index % modulus == residue`.
#[derive(Debug, Clone)]
pub struct Tag {
    pub id: u32,
    pub name: String,
    modulus: u32,
    residue: u32,
}

impl Tag {
    pub fn has(&self, index: u32) -> bool {
        index % self.modulus == self.residue
    }
    pub fn count(&self, followers: u32) -> u32 {
        if followers <= self.residue {
            0
        } else {
            (followers - self.residue).div_ceil(self.modulus)
        }
    }
}

#[derive(Debug)]
pub struct World {
    pub seed: u64,
    pub accounts: Vec<Account>,
    by_appid: HashMap<String, u16>,
    by_tag: HashMap<String, u16>,
    pub tags: Vec<Tag>,
    /// Sim time at start: the generated "subscribed at" / "messaged at" times are before it.
    pub epoch: i64,
}

impl World {
    pub fn generate(seed: u64, accounts: u32, followers: u32, epoch: i64) -> World {
        let mut list = Vec::new();
        let mut by_appid = HashMap::new();
        let mut by_tag = HashMap::new();
        for i in 0..accounts.min(1000) {
            let idx = i as u16;
            let (kind, verified) = match i % 5 {
                0 => (Kind::Service, true),
                1 => (Kind::MiniProgram, true),
                2 => (Kind::Subscription, true),
                3 => (Kind::Service, false),
                _ => (Kind::MiniProgram, false),
            };
            // Accounts pair up by principal, so account 0 (service) and 1 (mini program) share
            // their users' unionids.
            let principal = i / 2;
            let brand = BRANDS[(principal as usize) % BRANDS.len()];
            let round = principal as usize / BRANDS.len();
            let brand = if round == 0 {
                brand.to_string()
            } else {
                format!("{brand}{}", round + 1)
            };
            let nickname = match kind {
                Kind::Service => format!("{brand}服务号"),
                Kind::Subscription => format!("{brand}资讯"),
                Kind::MiniProgram => format!("{brand}小程序"),
            };
            let mut salt = 0u64;
            let openids = loop {
                let c = IdCodec::new(seed, u64::from(i) * 1_000 + salt, 'o');
                if !by_tag.contains_key(c.tag()) {
                    break c;
                }
                salt += 1;
            };
            by_tag.insert(openids.tag().to_string(), idx);
            let appid = format!("wx{}", ids::hex_like(seed, &[u64::from(i), 1], 16));
            let acct = Account {
                index: idx,
                user_name: format!("gh_{}", ids::hex_like(seed, &[u64::from(i), 2], 12)),
                nickname,
                kind,
                verified,
                principal,
                principal_name: format!("{brand}(深圳)有限公司"),
                appsecret: ids::hex_like(seed, &[u64::from(i), 3], 32),
                alias: format!("{}{}", kind.as_str(), i),
                signature: format!(
                    "{brand}官方{}",
                    if kind.is_official() {
                        "公众号"
                    } else {
                        "小程序"
                    }
                ),
                followers,
                openids,
                appid: appid.clone(),
                release_test: false,
            };
            by_appid.insert(appid, idx);
            list.push(acct);
        }
        // WeChat's release-test accounts (protocol F, group 2), one principal.
        let test_principal = u32::MAX - 1;
        for (appid, user_name, kind) in [
            (RELEASE_TEST_MP.0, RELEASE_TEST_MP.1, Kind::Service),
            (RELEASE_TEST_MINI.0, RELEASE_TEST_MINI.1, Kind::MiniProgram),
        ] {
            let idx = list.len() as u16;
            let openids = IdCodec::new(seed, 0xF000 + u64::from(idx), 'o');
            by_tag.insert(openids.tag().to_string(), idx);
            by_appid.insert(appid.to_string(), idx);
            list.push(Account {
                index: idx,
                appid: appid.to_string(),
                user_name: user_name.to_string(),
                nickname: if kind == Kind::Service {
                    "全网发布测试公众号".into()
                } else {
                    "全网发布测试小程序".into()
                },
                kind,
                verified: true,
                principal: test_principal,
                principal_name: "微信全网发布测试".into(),
                appsecret: ids::hex_like(seed, &[u64::from(idx), 3], 32),
                alias: String::new(),
                signature: String::new(),
                followers: 10,
                openids,
                release_test: true,
            });
        }
        let mut tags = vec![Tag {
            id: 2,
            name: "星标组".into(),
            modulus: 50,
            residue: 7,
        }];
        for (j, name) in TAG_NAMES.iter().enumerate() {
            let j = j as u32;
            tags.push(Tag {
                id: 100 + j,
                name: (*name).into(),
                modulus: j + 2,
                residue: j % (j + 2),
            });
        }
        World {
            seed,
            accounts: list,
            by_appid,
            by_tag,
            tags,
            epoch,
        }
    }

    pub fn account(&self, appid: &str) -> Option<&Account> {
        self.by_appid
            .get(appid)
            .and_then(|i| self.accounts.get(usize::from(*i)))
    }

    /// Former followers per account: a twentieth of the followers (at least 10), indexes right
    /// after the followers.
    pub fn former_count(&self, a: &Account) -> u32 {
        (a.followers / 20).max(10)
    }

    pub fn openid(&self, a: &Account, index: u32) -> String {
        a.openids.encode(index)
    }

    /// Which account an openid belongs to (by its tag), if any.
    pub fn owner_of(&self, openid: &str) -> Option<&Account> {
        let tag = openid.get(1..6)?;
        self.by_tag
            .get(tag)
            .and_then(|i| self.accounts.get(usize::from(*i)))
    }

    /// `None`: not an openid of this account (40003).
    pub fn person(&self, a: &Account, openid: &str) -> Option<Person> {
        let i = a.openids.decode(openid)?;
        if i < a.followers {
            Some(Person::Follower(i))
        } else if u64::from(i) < u64::from(a.followers) + u64::from(self.former_count(a)) {
            Some(Person::Former(i))
        } else {
            None
        }
    }

    /// The unionid of user `index` of account `a`: the same person across the accounts of one
    /// principal (only if the principal owns more than one account).
    pub fn unionid(&self, a: &Account, index: u32) -> Option<String> {
        let shared = self
            .accounts
            .iter()
            .filter(|b| b.principal == a.principal)
            .count()
            > 1;
        shared.then(|| {
            IdCodec::new(self.seed, 0x1_0000_0000 + u64::from(a.principal), 'o').encode(index)
        })
    }

    pub fn subscribe_time(&self, a: &Account, index: u32) -> i64 {
        let h = ids::hash(self.seed, &[u64::from(a.index), u64::from(index), 4]);
        self.epoch - 86_400 - (h % (3 * 365 * 86_400)) as i64
    }

    /// When the follower last messaged the account, if in the generated past: one in twenty
    /// followers did so within the last 47 hours before the sim started.
    pub fn generated_last_message(&self, a: &Account, index: u32) -> Option<i64> {
        let h = ids::hash(self.seed, &[u64::from(a.index), u64::from(index), 5]);
        h.is_multiple_of(20)
            .then(|| self.epoch - ((h >> 8) % (47 * 3600)) as i64)
    }

    pub fn tag_ids(&self, index: u32) -> Vec<u32> {
        self.tags
            .iter()
            .filter(|t| t.has(index))
            .map(|t| t.id)
            .collect()
    }

    /// Whether mini program `mini` is linked (关联) to official account `oa`: in this world an
    /// account's mini programs are the ones of its principal (protocol H.1; linking is done in
    /// the official account's console).
    pub fn linked(&self, oa: &Account, mini: &Account) -> bool {
        oa.kind.is_official() && mini.kind == Kind::MiniProgram && oa.principal == mini.principal
    }

    /// Permission sets (func_info ids) an account grants the platform.
    pub fn func_info(&self, a: &Account) -> &'static [u32] {
        if a.kind.is_official() {
            // 89: 服务号订阅通知 (protocol G.2).
            &[1, 2, 3, 4, 6, 7, 11, 15, 89, 100, 101]
        } else {
            &[17, 18, 19, 25, 30, 31, 36, 40]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_world_is_a_function_of_the_seed() {
        let a = World::generate(9, 5, 100, 0);
        let b = World::generate(9, 5, 100, 0);
        let c = World::generate(10, 5, 100, 0);
        assert_eq!(a.accounts[0].appid, b.accounts[0].appid);
        assert_eq!(a.openid(&a.accounts[0], 3), b.openid(&b.accounts[0], 3));
        assert_ne!(a.accounts[0].appid, c.accounts[0].appid);
    }

    #[test]
    fn kinds_mix_service_subscription_and_mini_programs() {
        let w = World::generate(1, 5, 10, 0);
        let kinds: Vec<_> = w
            .accounts
            .iter()
            .filter(|a| !a.release_test)
            .map(|a| (a.kind, a.verified))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Service, true),
                (Kind::MiniProgram, true),
                (Kind::Subscription, true),
                (Kind::Service, false),
                (Kind::MiniProgram, false)
            ]
        );
    }

    #[test]
    fn followers_formers_and_strangers_are_told_apart() {
        let w = World::generate(1, 3, 100, 0);
        let a = &w.accounts[0];
        assert_eq!(w.person(a, &w.openid(a, 99)), Some(Person::Follower(99)));
        assert_eq!(w.person(a, &w.openid(a, 100)), Some(Person::Former(100)));
        assert_eq!(w.person(a, &w.openid(a, 100 + 10)), None);
        let other = &w.accounts[2];
        assert_eq!(w.person(a, &w.openid(other, 1)), None);
        assert_eq!(w.owner_of(&w.openid(other, 1)).map(|x| x.index), Some(2));
    }

    #[test]
    fn unionid_is_shared_within_a_principal_only() {
        let w = World::generate(1, 5, 100, 0);
        let (svc, mini, sub) = (&w.accounts[0], &w.accounts[1], &w.accounts[2]);
        assert_eq!(svc.principal, mini.principal);
        assert_eq!(w.unionid(svc, 7), w.unionid(mini, 7));
        assert!(w.unionid(svc, 7).is_some());
        assert_ne!(w.unionid(svc, 7), w.unionid(sub, 7));
        assert_ne!(w.openid(svc, 7), w.openid(mini, 7));
    }

    #[test]
    fn tag_counts_match_membership() {
        let w = World::generate(1, 1, 1234, 0);
        for t in &w.tags {
            let n = (0..1234).filter(|i| t.has(*i)).count() as u32;
            assert_eq!(t.count(1234), n, "tag {}", t.id);
        }
    }
}
