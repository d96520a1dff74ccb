//! The template library (类目模板 with typed keywords, and legacy TM/OPENTM industry templates),
//! and the keyword value rules of protocol E.1 that `message/template/send` enforces (47003).

/// A keyword type (the prefix of `thing1`, `time2`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KwType {
    Thing,
    Number,
    Letter,
    Symbol,
    CharacterString,
    Time,
    Date,
    Amount,
    PhoneNumber,
    CarNumber,
    Name,
    Phrase,
    Const,
    /// Legacy `first` / `keywordN` / `remark`: not validated (truncated by WeChat since 2023).
    Legacy,
}

impl KwType {
    pub fn prefix(self) -> &'static str {
        match self {
            KwType::Thing => "thing",
            KwType::Number => "number",
            KwType::Letter => "letter",
            KwType::Symbol => "symbol",
            KwType::CharacterString => "character_string",
            KwType::Time => "time",
            KwType::Date => "date",
            KwType::Amount => "amount",
            KwType::PhoneNumber => "phone_number",
            KwType::CarNumber => "car_number",
            KwType::Name => "name",
            KwType::Phrase => "phrase",
            KwType::Const => "const",
            KwType::Legacy => "",
        }
    }

    /// The type a data key like `thing12` names (for subscription notices, whose keys carry it).
    pub fn from_key(key: &str) -> Option<KwType> {
        let stem = key.trim_end_matches(|c: char| c.is_ascii_digit());
        if stem.len() == key.len() {
            return None;
        }
        Some(match stem {
            "thing" => KwType::Thing,
            "number" => KwType::Number,
            "letter" => KwType::Letter,
            "symbol" => KwType::Symbol,
            "character_string" => KwType::CharacterString,
            "time" => KwType::Time,
            "date" => KwType::Date,
            "amount" => KwType::Amount,
            "phone_number" => KwType::PhoneNumber,
            "car_number" => KwType::CarNumber,
            "name" => KwType::Name,
            "phrase" => KwType::Phrase,
            "const" => KwType::Const,
            _ => return None,
        })
    }
}

#[derive(Debug)]
pub struct LibKeyword {
    /// The keyword's id in the library; the placeholder is `{type}{kid}` (`thing2`).
    pub kid: u32,
    pub name: &'static str,
    pub ty: KwType,
    /// Approved values of a `const` keyword.
    pub consts: &'static [&'static str],
    /// Placeholder name of a legacy keyword (`first`, `keyword1`, `remark`).
    pub legacy_key: &'static str,
    pub example: &'static str,
}

impl LibKeyword {
    pub fn key(&self) -> String {
        if self.ty == KwType::Legacy {
            self.legacy_key.to_string()
        } else {
            format!("{}{}", self.ty.prefix(), self.kid)
        }
    }
}

#[derive(Debug)]
pub struct LibTemplate {
    /// `template_id_short`: a number for category templates, `TM…`/`OPENTM…` for legacy ones.
    pub id_short: &'static str,
    pub title: &'static str,
    pub primary_industry: &'static str,
    pub deputy_industry: &'static str,
    pub keywords: &'static [LibKeyword],
}

impl LibTemplate {
    pub fn is_legacy(&self) -> bool {
        self.id_short.starts_with("TM") || self.id_short.starts_with("OPENTM")
    }
}

const fn kw(kid: u32, name: &'static str, ty: KwType, example: &'static str) -> LibKeyword {
    LibKeyword {
        kid,
        name,
        ty,
        consts: &[],
        legacy_key: "",
        example,
    }
}

const fn legacy(key: &'static str, name: &'static str, example: &'static str) -> LibKeyword {
    LibKeyword {
        kid: 0,
        name,
        ty: KwType::Legacy,
        consts: &[],
        legacy_key: key,
        example,
    }
}

/// The platform's template library.
pub static LIBRARY: &[LibTemplate] = &[
    LibTemplate {
        id_short: "47123",
        title: "订单发货通知",
        primary_industry: "IT科技",
        deputy_industry: "互联网|电子商务",
        keywords: &[
            kw(1, "订单编号", KwType::CharacterString, "SO20240101001"),
            kw(2, "商品名称", KwType::Thing, "有机绿茶礼盒"),
            kw(3, "发货时间", KwType::Time, "2024年1月1日 12:00"),
            kw(4, "快递公司", KwType::Thing, "顺丰速运"),
            kw(5, "订单金额", KwType::Amount, "¥128.00"),
            LibKeyword {
                kid: 6,
                name: "订单状态",
                ty: KwType::Const,
                consts: &["已发货", "已签收", "已取消"],
                legacy_key: "",
                example: "已发货",
            },
        ],
    },
    LibTemplate {
        id_short: "41088",
        title: "预约成功通知",
        primary_industry: "生活服务",
        deputy_industry: "家政服务",
        keywords: &[
            kw(1, "预约人", KwType::Name, "张三"),
            kw(2, "预约项目", KwType::Thing, "深度保洁"),
            kw(3, "预约时间", KwType::Time, "15:01"),
            kw(4, "联系电话", KwType::PhoneNumber, "+86-0766-66888866"),
            kw(5, "门店地址", KwType::Thing, "南山区科技园1号"),
            kw(6, "预约状态", KwType::Phrase, "已确认"),
        ],
    },
    LibTemplate {
        id_short: "50231",
        title: "车辆入场通知",
        primary_industry: "交通工具",
        deputy_industry: "停车服务",
        keywords: &[
            kw(1, "车牌号", KwType::CarNumber, "粤A8Z888挂"),
            kw(2, "入场时间", KwType::Time, "2024-01-01 08:30"),
            kw(3, "停车场", KwType::Thing, "科技园地下停车场"),
            kw(4, "停车费用", KwType::Amount, "¥10元"),
            kw(5, "离场日期", KwType::Date, "2024年1月1日"),
        ],
    },
    LibTemplate {
        id_short: "36655",
        title: "积分变动提醒",
        primary_industry: "IT科技",
        deputy_industry: "IT软件与服务",
        keywords: &[
            kw(1, "会员名称", KwType::Thing, "黄金会员"),
            kw(2, "变动积分", KwType::Number, "100"),
            kw(3, "会员等级", KwType::Letter, "VIP"),
            kw(4, "标记", KwType::Symbol, "+"),
            kw(5, "变动日期", KwType::Date, "2024年1月1日"),
        ],
    },
    LibTemplate {
        id_short: "TM00015",
        title: "订单支付成功",
        primary_industry: "IT科技",
        deputy_industry: "互联网|电子商务",
        keywords: &[
            legacy("first", "", "我们已收到您的货款，开始为您打包商品。"),
            legacy("keyword1", "支付金额", "¥59.90"),
            legacy("keyword2", "商品信息", "有机绿茶礼盒"),
            legacy("remark", "", "如有问题请致电客服。"),
        ],
    },
    LibTemplate {
        id_short: "OPENTM207498902",
        title: "预约提醒",
        primary_industry: "生活服务",
        deputy_industry: "家政服务",
        keywords: &[
            legacy("first", "", "您好，您有一个新的预约。"),
            legacy("keyword1", "预约项目", "深度保洁"),
            legacy("keyword2", "预约时间", "2024年1月1日 15:00"),
            legacy("remark", "", "请准时到店。"),
        ],
    },
];

pub fn find(id_short: &str) -> Option<(usize, &'static LibTemplate)> {
    LIBRARY
        .iter()
        .enumerate()
        .find(|(_, t)| t.id_short == id_short)
}

/// The industries `api_set_industry` accepts: id → (first_class, second_class).
pub static INDUSTRIES: &[(&str, &str, &str)] = &[
    ("1", "IT科技", "互联网|电子商务"),
    ("2", "IT科技", "IT软件与服务"),
    ("10", "交通工具", "停车服务"),
    ("24", "生活服务", "家政服务"),
    ("26", "生活服务", "快递"),
];

pub fn industry(id: &str) -> Option<(&'static str, &'static str)> {
    INDUSTRIES
        .iter()
        .find(|(i, _, _)| *i == id)
        .map(|(_, a, b)| (*a, *b))
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2EBEF)
}

fn is_symbol(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control()
}

/// Digits with an optional decimal part (`12`, `12.50`).
fn is_decimal(s: &str) -> bool {
    let mut parts = s.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    !int.is_empty()
        && int.chars().all(|c| c.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

/// `2019年10月1日`, `2019-10-01`, `2019/10/01`.
fn is_plain_date(s: &str) -> bool {
    let s = s.trim();
    if let Some(rest) = s.strip_suffix('日') {
        let Some((y, rest)) = rest.split_once('年') else {
            return false;
        };
        let Some((m, d)) = rest.split_once('月') else {
            return false;
        };
        return num_in(y, 1000, 9999) && num_in(m, 1, 12) && num_in(d, 1, 31);
    }
    for sep in ['-', '/'] {
        let p: Vec<&str> = s.split(sep).collect();
        if p.len() == 3 {
            return num_in(p[0], 1000, 9999) && num_in(p[1], 1, 12) && num_in(p[2], 1, 31);
        }
    }
    false
}

fn num_in(s: &str, lo: u32, hi: u32) -> bool {
    !s.is_empty()
        && s.len() <= 4
        && s.chars().all(|c| c.is_ascii_digit())
        && s.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
}

/// `15:01` or `15:01:30`, 24-hour.
fn is_clock(s: &str) -> bool {
    let p: Vec<&str> = s.trim().split(':').collect();
    (p.len() == 2 || p.len() == 3)
        && p.iter()
            .all(|x| x.len() == 2 && x.chars().all(|c| c.is_ascii_digit()))
        && num_in(p[0], 0, 23)
        && p[1..].iter().all(|x| num_in(x, 0, 59))
}

/// A date, optionally followed by a time.
fn is_date_time(s: &str, time_required: bool) -> bool {
    let s = s.trim();
    if is_plain_date(s) {
        return !time_required;
    }
    if is_clock(s) {
        return time_required;
    }
    match s.rsplit_once(' ') {
        Some((d, t)) => is_plain_date(d) && is_clock(t),
        None => {
            // `2019年10月1日15:01` without a space.
            if let Some((d, t)) = s.split_once('日') {
                is_plain_date(&format!("{d}日")) && is_clock(t)
            } else {
                false
            }
        }
    }
}

fn ranged(s: &str, f: impl Fn(&str) -> bool) -> bool {
    match s.split_once('~') {
        Some((a, b)) => f(a) && f(b),
        None => f(s),
    }
}

/// Does `value` satisfy the rule of `ty` (protocol E.1)? Characters are counted as Unicode
/// scalar values (the stricter reading).
pub fn value_ok(ty: KwType, value: &str, consts: &[&str]) -> bool {
    let n = value.chars().count();
    match ty {
        KwType::Legacy => true,
        KwType::Thing => (1..=20).contains(&n) && !value.chars().any(char::is_control),
        KwType::Number => n <= 32 && is_decimal(value),
        KwType::Letter => (1..=32).contains(&n) && value.chars().all(|c| c.is_ascii_alphabetic()),
        KwType::Symbol => (1..=5).contains(&n) && value.chars().all(is_symbol),
        KwType::CharacterString => {
            (1..=32).contains(&n) && value.chars().all(|c| c.is_ascii_graphic())
        }
        KwType::Time => ranged(value, |s| is_date_time(s, true)),
        KwType::Date => ranged(value, |s| is_plain_date(s) || is_date_time(s, true)),
        KwType::Amount => {
            let v = value.strip_suffix('元').unwrap_or(value);
            let mut cs = v.chars();
            match cs.next() {
                Some(c) if "¥￥$€£".contains(c) => {
                    let rest: String = cs.collect();
                    let digits = rest.chars().filter(char::is_ascii_digit).count();
                    is_decimal(&rest) && digits <= 10
                }
                Some(c) if c.is_ascii_digit() => {
                    let digits = v.chars().filter(char::is_ascii_digit).count();
                    value.ends_with('元') && is_decimal(v) && digits <= 10
                }
                _ => false,
            }
        }
        KwType::PhoneNumber => {
            (1..=17).contains(&n)
                && value.chars().any(|c| c.is_ascii_digit())
                && value.chars().all(|c| c.is_ascii_digit() || is_symbol(c))
        }
        KwType::CarNumber => {
            let cs: Vec<char> = value.chars().collect();
            (2..=8).contains(&n)
                && cs.iter().enumerate().all(|(i, c)| {
                    c.is_ascii_alphanumeric() || ((i == 0 || i == n - 1) && is_cjk(*c))
                })
        }
        KwType::Name => {
            if value.chars().any(is_cjk) {
                (1..=10).contains(&n)
                    && value
                        .chars()
                        .all(|c| is_cjk(c) || c.is_ascii_alphabetic() || c == '·')
            } else {
                (1..=20).contains(&n)
                    && value
                        .chars()
                        .all(|c| c.is_ascii_alphabetic() || is_symbol(c) || c == ' ')
            }
        }
        KwType::Phrase => (1..=5).contains(&n) && value.chars().all(is_cjk),
        KwType::Const => consts.contains(&value),
    }
}

#[cfg(test)]
mod tests {
    use super::KwType::*;
    use super::*;

    #[test]
    fn thing_allows_twenty_characters_and_no_more() {
        assert!(value_ok(Thing, &"物".repeat(20), &[]));
        assert!(!value_ok(Thing, &"物".repeat(21), &[]));
        assert!(!value_ok(Thing, "", &[]));
    }

    #[test]
    fn the_protocol_examples_pass() {
        assert!(value_ok(Time, "15:01", &[]));
        assert!(value_ok(Time, "2019年10月1日 15:01", &[]));
        assert!(value_ok(Time, "2024-01-01 12:00", &[]));
        assert!(value_ok(Time, "15:01~16:00", &[]));
        assert!(value_ok(Date, "2019年10月1日", &[]));
        assert!(value_ok(Amount, "¥128.00", &[]));
        assert!(value_ok(Amount, "¥10元", &[]));
        assert!(value_ok(PhoneNumber, "+86-0766-66888866", &[]));
        assert!(value_ok(CarNumber, "粤A8Z888挂", &[]));
        assert!(value_ok(Phrase, "配送中", &[]));
        assert!(value_ok(Name, "张三", &[]));
        assert!(value_ok(Number, "3.14", &[]));
        assert!(value_ok(Letter, "VIP", &[]));
        assert!(value_ok(Symbol, "+", &[]));
        assert!(value_ok(CharacterString, "SO-2024_01", &[]));
        assert!(value_ok(Const, "已发货", &["已发货", "已签收"]));
    }

    #[test]
    fn rule_breakers_fail() {
        assert!(!value_ok(Time, "明天下午", &[]));
        assert!(!value_ok(Time, "25:00", &[]));
        assert!(!value_ok(Amount, "128", &[]));
        assert!(!value_ok(Amount, "¥12345678901", &[]));
        assert!(!value_ok(Phrase, "配送中了吗啊啊", &[]));
        assert!(!value_ok(Phrase, "ok", &[]));
        assert!(!value_ok(Name, "张三李四王五赵六钱七孙", &[]));
        assert!(!value_ok(Number, "12a", &[]));
        assert!(!value_ok(Letter, "AB1", &[]));
        assert!(!value_ok(Symbol, "abc", &[]));
        assert!(!value_ok(CharacterString, "订单", &[]));
        assert!(!value_ok(CarNumber, "粤A8Z8888挂", &[]));
        assert!(!value_ok(Const, "已付款", &["已发货"]));
        assert!(!value_ok(PhoneNumber, "+86-0766-66888866-123", &[]));
    }

    #[test]
    fn key_prefixes_map_to_types() {
        assert_eq!(KwType::from_key("thing12"), Some(Thing));
        assert_eq!(KwType::from_key("character_string3"), Some(CharacterString));
        assert_eq!(KwType::from_key("keyword1"), None);
        assert_eq!(KwType::from_key("thing"), None);
    }
}
