//! 订阅通知 of official accounts (protocol G): the public template library by category, each
//! account's chosen templates (at most 50), and who may be sent what — per (account, user,
//! template) a count of one-time accepts, or the long-term flag — with the events WeChat pushes
//! when a user accepts, switches a notice off, or a notice was sent.

use std::collections::HashMap;

use crate::templates::KwType;

/// An account keeps at most this many chosen templates (200012 beyond).
pub const MAX_SUB_TEMPLATES: usize = 50;
/// `sceneDesc` is at most 15 characters (200021).
pub const MAX_SCENE_CHARS: usize = 15;
/// `kidList` holds 2 to 5 keywords (200020).
pub const MIN_KIDS: usize = 2;
pub const MAX_KIDS: usize = 5;
/// getpubtemplatetitles' `limit` is at most 30 (200017).
pub const MAX_TITLES_LIMIT: u32 = 30;

/// Template types as the APIs report them (G.1).
pub const ONE_TIME: i64 = 2;
pub const LONG_TERM: i64 = 3;

/// The categories (类目) every official account of the world has.
pub static CATEGORIES: &[(u32, &str)] = &[(307, "快递、物流"), (616, "公交"), (411, "政务民生")];

#[derive(Debug)]
pub struct SubKeyword {
    pub kid: u32,
    pub name: &'static str,
    pub ty: KwType,
    pub example: &'static str,
}

impl SubKeyword {
    /// The data key: the rule prefix and the kid (`thing2`).
    pub fn key(&self) -> String {
        format!("{}{}", self.ty.prefix(), self.kid)
    }
}

#[derive(Debug)]
pub struct SubLibTemplate {
    pub tid: u32,
    pub title: &'static str,
    /// [`ONE_TIME`] or [`LONG_TERM`] (long-term only for public-service categories).
    pub kind: i64,
    pub category: u32,
    pub keywords: &'static [SubKeyword],
}

const fn kw(kid: u32, name: &'static str, ty: KwType, example: &'static str) -> SubKeyword {
    SubKeyword {
        kid,
        name,
        ty,
        example,
    }
}

/// The public library.
pub static SUB_LIBRARY: &[SubLibTemplate] = &[
    SubLibTemplate {
        tid: 501,
        title: "订单发货提醒",
        kind: ONE_TIME,
        category: 307,
        keywords: &[
            kw(1, "订单编号", KwType::CharacterString, "SO20240101001"),
            kw(2, "商品名称", KwType::Thing, "有机绿茶礼盒"),
            kw(3, "发货时间", KwType::Time, "2024年1月1日 12:00"),
            kw(4, "快递公司", KwType::Thing, "顺丰速运"),
            kw(5, "订单金额", KwType::Amount, "¥128.00"),
        ],
    },
    SubLibTemplate {
        tid: 502,
        title: "取件提醒",
        kind: ONE_TIME,
        category: 307,
        keywords: &[
            kw(1, "取件码", KwType::CharacterString, "8-2-3012"),
            kw(2, "驿站地址", KwType::Thing, "南山区科技园1号"),
            kw(3, "联系电话", KwType::PhoneNumber, "0755-66888866"),
            kw(4, "到站时间", KwType::Time, "2024-01-01 08:30"),
        ],
    },
    SubLibTemplate {
        tid: 616,
        title: "车辆到站提醒",
        kind: ONE_TIME,
        category: 616,
        keywords: &[
            kw(1, "线路", KwType::Thing, "M375路"),
            kw(2, "车牌号", KwType::CarNumber, "粤B12345"),
            kw(3, "预计到达", KwType::Time, "15:01"),
        ],
    },
    SubLibTemplate {
        tid: 701,
        title: "办件进度通知",
        kind: LONG_TERM,
        category: 411,
        keywords: &[
            kw(1, "事项名称", KwType::Thing, "居住证办理"),
            kw(2, "办理进度", KwType::Phrase, "已受理"),
            kw(3, "更新时间", KwType::Time, "2024年1月1日 12:00"),
            kw(4, "办理人", KwType::Name, "张三"),
        ],
    },
];

pub fn lib(tid: &str) -> Option<(usize, &'static SubLibTemplate)> {
    let tid: u32 = tid.trim().parse().ok()?;
    SUB_LIBRARY.iter().enumerate().find(|(_, t)| t.tid == tid)
}

/// One of an account's chosen templates.
#[derive(Debug, Clone)]
pub struct SubTemplate {
    pub pri_tmpl_id: String,
    /// Index into [`SUB_LIBRARY`].
    pub lib: usize,
    /// Chosen keywords (indexes into the library template's keywords), in order.
    pub keywords: Vec<usize>,
    pub scene: String,
}

impl SubTemplate {
    pub fn lib(&self) -> &'static SubLibTemplate {
        &SUB_LIBRARY[self.lib]
    }

    pub fn fields(&self) -> impl Iterator<Item = &'static SubKeyword> + '_ {
        let lib = self.lib();
        self.keywords.iter().filter_map(|i| lib.keywords.get(*i))
    }

    /// `{{thing1.DATA}}` lines and the example, as gettemplate shows them.
    pub fn text(&self) -> (String, String) {
        let mut content = String::new();
        let mut example = String::new();
        for k in self.fields() {
            content.push_str(&format!("{}:{{{{{}.DATA}}}}\n", k.name, k.key()));
            example.push_str(&format!("{}:{}\n", k.name, k.example));
        }
        (content, example)
    }
}

/// What one user has granted one template of one account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grant {
    /// One-time accepts not yet used by a send.
    pub remaining: u32,
    /// Long-term template accepted and not switched off.
    pub long_term: bool,
}

impl Grant {
    pub fn can_send(&self) -> bool {
        self.long_term || self.remaining > 0
    }
}

/// (account, user index, priTmplId) → what the user granted.
pub type Grants = HashMap<(u16, u32, String), Grant>;

/// A user's action on a subscription popup or the management page (`POST /__sim/subscribe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChoice {
    /// 同意 in the popup: one more send (one-time), or the long-term flag.
    Accept,
    /// 取消 in the popup: nothing changes.
    Reject,
    /// Switched off on the 服务通知 management page: every grant of the template is gone.
    SwitchOff,
}

/// Apply a choice to a grant. `accumulate` (protocol G.4, UNCERTAIN for official accounts):
/// whether several accepts of a one-time template add up or the count stays at one.
pub fn apply(g: &mut Grant, kind: i64, choice: UserChoice, accumulate: bool) {
    match choice {
        UserChoice::Accept if kind == LONG_TERM => g.long_term = true,
        UserChoice::Accept if accumulate => g.remaining = g.remaining.saturating_add(1),
        UserChoice::Accept => g.remaining = 1,
        UserChoice::Reject => {}
        UserChoice::SwitchOff => *g = Grant::default(),
    }
}

/// A send consumes a one-time grant; a long-term one stays.
pub fn consume(g: &mut Grant) -> bool {
    if g.long_term {
        true
    } else if g.remaining > 0 {
        g.remaining -= 1;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_accepts_add_up_or_not_and_each_send_uses_one() {
        let mut g = Grant::default();
        apply(&mut g, ONE_TIME, UserChoice::Accept, true);
        apply(&mut g, ONE_TIME, UserChoice::Accept, true);
        assert_eq!(g.remaining, 2);
        assert!(consume(&mut g) && consume(&mut g));
        assert!(!consume(&mut g));
        let mut h = Grant::default();
        apply(&mut h, ONE_TIME, UserChoice::Accept, false);
        apply(&mut h, ONE_TIME, UserChoice::Accept, false);
        assert_eq!(h.remaining, 1);
    }

    #[test]
    fn long_term_stays_until_switched_off_and_a_popup_reject_changes_nothing() {
        let mut g = Grant::default();
        apply(&mut g, LONG_TERM, UserChoice::Accept, true);
        assert!(consume(&mut g) && consume(&mut g) && g.can_send());
        apply(&mut g, LONG_TERM, UserChoice::Reject, true);
        assert!(g.can_send());
        apply(&mut g, LONG_TERM, UserChoice::SwitchOff, true);
        assert!(!g.can_send());
    }

    #[test]
    fn every_library_template_has_two_to_five_typed_keywords() {
        for t in SUB_LIBRARY {
            assert!(t.keywords.len() >= MIN_KIDS, "{}", t.title);
            assert!(CATEGORIES.iter().any(|(id, _)| *id == t.category));
            for k in t.keywords {
                assert!(
                    crate::templates::value_ok(k.ty, k.example, &[]),
                    "{}",
                    k.name
                );
            }
        }
        assert_eq!(lib("701").map(|(_, t)| t.kind), Some(LONG_TERM));
        assert!(lib("x").is_none());
    }
}
