//! Names of the permission sets (权限集, `func_info` ids) an account grants the platform, as the
//! open platform's 权限集说明 lists them. Unknown ids are shown by number.

use serde::Serialize;

use super::db::AccountKind;

/// 群发与通知权限: template messages need it.
pub const TEMPLATE_MESSAGE: i64 = 7;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    pub id: i64,
    pub name: String,
}

fn official_account(id: i64) -> Option<&'static str> {
    Some(match id {
        1 => "消息管理权限",
        2 => "用户管理权限",
        3 => "帐号服务权限",
        4 => "网页服务权限",
        5 => "微信小店权限",
        6 => "微信多客服权限",
        7 => "群发与通知权限",
        8 => "微信卡券权限",
        9 => "微信扫一扫权限",
        10 => "微信连WIFI权限",
        11 => "素材管理权限",
        12 => "微信摇周边权限",
        13 => "微信门店权限",
        15 => "自定义菜单权限",
        22 => "城市服务接口权限",
        23 => "广告管理权限",
        24 => "开放平台帐号管理权限",
        26 => "微信电子发票权限",
        27 => "快速注册小程序权限",
        33 => "小程序管理权限",
        // 订阅通知 (bizsend and the newtmpl templates) need it (protocol G.2).
        89 => "服务号订阅通知权限",
        _ => return None,
    })
}

fn mini_program(id: i64) -> Option<&'static str> {
    Some(match id {
        17 => "帐号管理权限",
        18 => "开发管理与数据分析权限",
        19 => "客服消息管理权限",
        25 => "开放平台帐号管理权限",
        30 => "小程序基本信息设置权限",
        31 => "小程序认证权限",
        36 => "微信卡路里权限",
        37 => "附近的小程序权限",
        40 => "插件管理权限",
        41 => "好物圈权限",
        45 => "微信物流服务权限",
        _ => return None,
    })
}

pub fn name_of(kind: AccountKind, id: i64) -> String {
    let known = match kind {
        AccountKind::Oa => official_account(id).or_else(|| mini_program(id)),
        AccountKind::Mini => mini_program(id).or_else(|| official_account(id)),
    };
    known.map_or_else(|| format!("权限集 {id}"), str::to_string)
}

pub fn describe(kind: AccountKind, ids: &[i64]) -> Vec<Permission> {
    ids.iter()
        .map(|&id| Permission {
            id,
            name: name_of(kind, id),
        })
        .collect()
}

/// Template messages are an official-account feature; a mini program never "misses" it.
pub fn missing_template_permission(kind: AccountKind, ids: &[i64]) -> bool {
    kind == AccountKind::Oa && !ids.contains(&TEMPLATE_MESSAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_get_their_chinese_names_and_unknown_ones_their_number() {
        assert_eq!(name_of(AccountKind::Oa, 7), "群发与通知权限");
        assert_eq!(name_of(AccountKind::Mini, 19), "客服消息管理权限");
        assert_eq!(name_of(AccountKind::Oa, 89), "服务号订阅通知权限");
        assert_eq!(name_of(AccountKind::Oa, 100), "权限集 100");
    }

    #[test]
    fn only_an_official_account_without_set_7_misses_template_messages() {
        assert!(missing_template_permission(AccountKind::Oa, &[1, 2, 3]));
        assert!(!missing_template_permission(AccountKind::Oa, &[1, 7]));
        assert!(!missing_template_permission(AccountKind::Mini, &[17, 18]));
    }
}
