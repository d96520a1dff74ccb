//! Keyword parsing and the value rules of every keyword type (protocol E.1), with the exact
//! messages the composer shows.

#![allow(clippy::unwrap_used)] // a panic is how a test fails

use wxdesk_core::templates::keywords::{
    Field, KeywordType as K, ViolationKind, display, display_field, parse_content,
    preview_truncation, validate, validate_with_allowed,
};

fn field(key: &str, label: &str, kind: K) -> Field {
    Field {
        key: key.into(),
        label: label.into(),
        kind,
        shown: kind.is_shown(),
    }
}

#[test]
fn category_template_content_yields_fields_in_order_with_labels_and_types() {
    let content = "工单名称:{{thing1.DATA}}\n工单类型：{{const3.DATA}}\n提交时间：{{time2.DATA}}\n";
    assert_eq!(
        parse_content(content),
        vec![
            field("thing1", "工单名称", K::Thing),
            field("const3", "工单类型", K::Const),
            field("time2", "提交时间", K::Time),
        ]
    );
}

#[test]
fn every_typed_prefix_maps_to_its_type() {
    let cases = [
        ("thing1", K::Thing),
        ("number2", K::Number),
        ("letter3", K::Letter),
        ("symbol4", K::Symbol),
        ("character_string5", K::CharacterString),
        ("time6", K::Time),
        ("date7", K::Date),
        ("amount8", K::Amount),
        ("phone_number9", K::PhoneNumber),
        ("car_number10", K::CarNumber),
        ("name11", K::Name),
        ("phrase12", K::Phrase),
        ("const13", K::Const),
        ("enum14", K::Enum),
        ("short_thing15", K::ShortThing),
    ];
    let content: String = cases
        .iter()
        .enumerate()
        .map(|(i, (key, _))| format!("标签{i}:{{{{{key}.DATA}}}}\n"))
        .collect();
    let fields = parse_content(&content);
    assert_eq!(fields.len(), cases.len());
    for (i, ((key, kind), f)) in cases.iter().zip(&fields).enumerate() {
        assert_eq!(f, &field(key, &format!("标签{i}"), *kind));
        assert_eq!(
            kind.prefix(),
            key.trim_end_matches(|c: char| c.is_ascii_digit())
        );
    }
}

#[test]
fn legacy_industry_template_yields_first_keywords_and_remark() {
    let content =
        "{{first.DATA}}\n订单号：{{keyword1.DATA}}\n金额：{{keyword2.DATA}}\n{{remark.DATA}}";
    let fields = parse_content(content);
    assert_eq!(
        fields,
        vec![
            field("first", "", K::First),
            field("keyword1", "订单号", K::Keyword),
            field("keyword2", "金额", K::Keyword),
            field("remark", "", K::Remark),
        ]
    );
    assert!(fields.iter().all(|f| f.kind.is_legacy()));
    assert!(!K::First.is_shown() && !K::Remark.is_shown() && K::Keyword.is_shown());
}

#[test]
fn two_placeholders_on_one_line_get_their_own_labels_and_repeats_are_listed_once() {
    let content = "从 {{thing1.DATA}} 到 {{thing2.DATA}}\n再次：{{thing1.DATA}}";
    assert_eq!(
        parse_content(content),
        vec![
            field("thing1", "从", K::Thing),
            field("thing2", "到", K::Thing)
        ]
    );
}

#[test]
fn unknown_or_unnumbered_keys_are_unknown_and_malformed_placeholders_are_ignored() {
    let content =
        "甲：{{colour1.DATA}}\n乙：{{thing.DATA}}\n丙：{{bad key.DATA}}\n丁：{{thing9.DATA";
    assert_eq!(
        parse_content(content),
        vec![
            field("colour1", "甲", K::Unknown),
            field("thing", "乙", K::Unknown)
        ]
    );
    assert_eq!(parse_content(""), vec![]);
}

fn reject(kind: K, value: &str) -> (ViolationKind, String, String) {
    let v = validate(kind, value).expect_err(&format!("{kind:?} must reject {value:?}"));
    (v.kind, v.zh, v.en)
}

fn accept(kind: K, values: &[&str]) {
    for value in values {
        assert_eq!(
            validate(kind, value),
            Ok(()),
            "{kind:?} must accept {value:?}"
        );
    }
}

#[test]
fn thing_accepts_twenty_characters_of_any_text_and_rejects_the_twenty_first() {
    accept(
        K::Thing,
        &[
            "配送单 No.12 (加急)",
            "Apple Watch Ultra",
            &"字".repeat(20),
            "ｶﾀｶﾅ ☆★",
        ],
    );
    assert_eq!(
        reject(K::Thing, &"字".repeat(21)),
        (
            ViolationKind::TooLong { max: 20, got: 21 },
            "最多 20 个字符，当前 21 个".into(),
            "at most 20 characters, got 21".into()
        )
    );
}

#[test]
fn every_typed_keyword_rejects_empty_newlines_emoji_and_control_characters() {
    for kind in [K::Thing, K::CharacterString, K::Time, K::Amount, K::Const] {
        assert_eq!(
            reject(kind, ""),
            (
                ViolationKind::Empty,
                "不能为空".into(),
                "must not be empty".into()
            )
        );
        assert_eq!(
            reject(kind, "a\nb"),
            (
                ViolationKind::Newline,
                "不能包含换行".into(),
                "must not contain line breaks".into()
            )
        );
        assert_eq!(
            reject(kind, "好😀"),
            (
                ViolationKind::Emoji { ch: '😀' },
                "不能包含表情符号（😀）".into(),
                "must not contain emoji (😀)".into()
            )
        );
    }
    assert_eq!(
        reject(K::Thing, "a\u{200B}b").1,
        "不能包含不可见的控制字符（U+200B）"
    );
    assert_eq!(
        reject(K::Thing, "ok\u{2764}\u{FE0F}").0,
        ViolationKind::Emoji { ch: '\u{2764}' }
    );
}

#[test]
fn legacy_and_unknown_keywords_are_not_validated() {
    for kind in [K::First, K::Keyword, K::Remark, K::Unknown] {
        assert_eq!(validate(kind, &format!("{}\n😀", "长".repeat(300))), Ok(()));
        assert_eq!(validate(kind, ""), Ok(()));
    }
}

#[test]
fn number_takes_up_to_32_digits_with_decimals_only() {
    accept(K::Number, &["0", "42", "3.14", &"9".repeat(32), "0012"]);
    let format = (
        ViolationKind::Format,
        "须为数字，可带小数，如 3.14".to_string(),
        "must be a number, decimals allowed, e.g. 3.14".to_string(),
    );
    for bad in ["-1", "1.", ".5", "1.2.3", "1,000", "１２", "12a", "1 2"] {
        assert_eq!(reject(K::Number, bad), format, "{bad}");
    }
    assert_eq!(
        reject(K::Number, &"9".repeat(33)).0,
        ViolationKind::TooLong { max: 32, got: 33 }
    );
}

#[test]
fn letter_takes_up_to_32_ascii_letters_only() {
    accept(K::Letter, &["abc", "ABCxyz", &"z".repeat(32)]);
    assert_eq!(
        reject(K::Letter, "ab1"),
        (
            ViolationKind::Char { ch: '1' },
            "只能包含英文字母，不能包含“1”".into(),
            "may contain only letters (A-Z, a-z), not '1'".into()
        )
    );
    assert_eq!(reject(K::Letter, "a b").0, ViolationKind::Char { ch: ' ' });
    assert_eq!(reject(K::Letter, "Ａ").0, ViolationKind::Char { ch: 'Ａ' });
    assert_eq!(
        reject(K::Letter, &"z".repeat(33)).0,
        ViolationKind::TooLong { max: 32, got: 33 }
    );
}

#[test]
fn symbol_takes_up_to_5_symbols_only() {
    accept(K::Symbol, &["#", "+-*/%", "￥。、", "★"]);
    assert_eq!(reject(K::Symbol, "#a").1, "只能包含符号，不能包含“a”");
    assert_eq!(reject(K::Symbol, "#号").0, ViolationKind::Char { ch: '号' });
    assert_eq!(
        reject(K::Symbol, "!!!!!!").0,
        ViolationKind::TooLong { max: 5, got: 6 }
    );
}

#[test]
fn character_string_takes_up_to_32_digits_letters_or_symbols_but_no_chinese() {
    accept(
        K::CharacterString,
        &["SO-2024-000123", "a_b.c@d", &"x".repeat(32)],
    );
    assert_eq!(
        reject(K::CharacterString, "单号123"),
        (
            ViolationKind::Char { ch: '单' },
            "只能包含数字、英文字母或符号，不能包含“单”".into(),
            "may contain only digits, letters or symbols, not '单'".into()
        )
    );
    assert_eq!(
        reject(K::CharacterString, &"x".repeat(33)).0,
        ViolationKind::TooLong { max: 32, got: 33 }
    );
}

#[test]
fn time_takes_24_hour_times_with_optional_date_and_ranges() {
    accept(
        K::Time,
        &[
            "15:01",
            "9:05",
            "00:00:59",
            "2019年10月1日 15:01",
            "2019年10月1日15:01",
            "10月1日 15:01",
            "2019-10-01 15:01",
            "2019/10/01 23:59:59",
            "15:01~17:30",
            "2019年10月1日 15:01 ~ 2019年10月2日 09:00",
            "2019年10月1日 15:01~17:00",
            "2024年2月29日 08:00",
        ],
    );
    let format = (
        ViolationKind::Format,
        "须为 24 小时制时间，可带日期，如 15:01 或 2019年10月1日 15:01；时间段用 ~ 连接".to_string(),
        "must be a 24-hour time, optionally after a date, e.g. 15:01 or 2019年10月1日 15:01; join a range with ~"
            .to_string(),
    );
    for bad in [
        "24:00",
        "15:60",
        "3pm",
        "15点01分",
        "2019年10月1日",
        "2019-10-0115:01",
        "15:01~",
        "15:01~16:00~17:00",
        "2023年2月29日 08:00",
        "15：01",
        "15:01～16:00",
    ] {
        assert_eq!(reject(K::Time, bad), format, "{bad}");
    }
}

#[test]
fn date_takes_dates_with_optional_time_and_ranges() {
    accept(
        K::Date,
        &[
            "2019年10月1日",
            "10月1日",
            "2019-10-01",
            "2019/1/5",
            "2019.10.01",
            "2019年10月1日 15:01",
            "2019年10月1日~2019年10月7日",
            "2019-10-01 09:00 ~ 18:00",
            "2月29日",
        ],
    );
    let format = (
        ViolationKind::Format,
        "须为日期，可带 24 小时制时间，如 2019年10月1日 或 2019-10-01 15:01；时间段用 ~ 连接".to_string(),
        "must be a date, optionally with a 24-hour time, e.g. 2019年10月1日 or 2019-10-01 15:01; join a range with ~"
            .to_string(),
    );
    for bad in [
        "15:01",
        "2019年13月1日",
        "2019-02-30",
        "2019年10月1号",
        "19-10-01",
        "2019-10/01",
        "2019年10月1日~18:00",
        "明天",
    ] {
        assert_eq!(reject(K::Date, bad), format, "{bad}");
    }
}

#[test]
fn amount_takes_one_currency_sign_up_to_10_digits_and_an_optional_yuan() {
    accept(
        K::Amount,
        &[
            "¥100.50",
            "￥8",
            "$1.99",
            "100元",
            "¥1234567890",
            "12345678.90元",
            "0.01",
        ],
    );
    let format = (
        ViolationKind::Format,
        "须为金额：可带一个币种符号，数字可带小数，可以“元”结尾，如 ¥100.50 或 100元".to_string(),
        "must be an amount: one optional currency sign, digits with optional decimals, optionally ending in 元, e.g. ¥100.50 or 100元"
            .to_string(),
    );
    for bad in [
        "¥¥100",
        "-¥5",
        "100 元",
        "一百元",
        "¥1,000",
        "100元整",
        "元",
        "¥",
    ] {
        assert_eq!(reject(K::Amount, bad), format, "{bad}");
    }
    assert_eq!(
        reject(K::Amount, "¥12345678901"),
        (
            ViolationKind::TooLong { max: 10, got: 11 },
            "金额最多 10 位数字（含小数位），当前 11 位".into(),
            "an amount has at most 10 digits (decimals included), got 11".into()
        )
    );
    assert_eq!(
        reject(K::Amount, "123456789.01元").0,
        ViolationKind::TooLong { max: 10, got: 11 }
    );
}

#[test]
fn phone_number_takes_up_to_17_digits_and_symbols() {
    accept(
        K::PhoneNumber,
        &["+86-0766-66888866", "13800138000", "(020) 1234 5678"],
    );
    assert_eq!(
        reject(K::PhoneNumber, "400-ABC"),
        (
            ViolationKind::Char { ch: 'A' },
            "只能包含数字和符号，不能包含“A”".into(),
            "may contain only digits and symbols, not 'A'".into()
        )
    );
    assert_eq!(
        reject(K::PhoneNumber, "+86-0766-668888661").0,
        ViolationKind::TooLong { max: 17, got: 18 }
    );
}

#[test]
fn car_number_allows_chinese_only_first_and_last_and_at_most_8_characters() {
    accept(
        K::CarNumber,
        &["粤A8Z888挂", "京A12345", "WJ12345", "粤B12345警"],
    );
    let format = (
        ViolationKind::Format,
        "须为车牌号：首尾可为汉字，其余为英文字母或数字，如 粤A8Z888挂".to_string(),
        "must be a licence plate: Chinese allowed only first and last, the rest letters or digits, e.g. 粤A8Z888挂"
            .to_string(),
    );
    for bad in ["粤A-12345", "粤A粤2345", "粤 A12345", "粤a·1234"] {
        assert_eq!(reject(K::CarNumber, bad), format, "{bad}");
    }
    assert_eq!(
        reject(K::CarNumber, "粤A1234567").0,
        ViolationKind::TooLong { max: 8, got: 9 }
    );
}

#[test]
fn name_allows_10_when_chinese_is_present_and_20_letters_or_symbols_otherwise() {
    accept(
        K::Name,
        &[
            "张三",
            "阿卜杜·买买提",
            &"李".repeat(10),
            "John Smith",
            &"a".repeat(20),
            "张John",
        ],
    );
    assert_eq!(
        reject(K::Name, &"李".repeat(11)),
        (
            ViolationKind::TooLong { max: 10, got: 11 },
            "含汉字的姓名最多 10 个字，当前 11 个".into(),
            "a name containing Chinese has at most 10 characters, got 11".into()
        )
    );
    assert_eq!(
        reject(K::Name, "张Johnathan1").0,
        ViolationKind::Char { ch: '1' }
    );
    assert_eq!(
        reject(K::Name, "张Johnathans").0,
        ViolationKind::TooLong { max: 10, got: 11 }
    );
    assert_eq!(
        reject(K::Name, &"a".repeat(21)).0,
        ViolationKind::TooLong { max: 20, got: 21 }
    );
    assert_eq!(
        reject(K::Name, "R2D2").1,
        "只能包含汉字、字母或符号，不能包含“2”"
    );
}

#[test]
fn phrase_takes_up_to_5_chinese_characters_only() {
    accept(K::Phrase, &["配送中", "已完成", "等待买家付"]);
    assert_eq!(
        reject(K::Phrase, "配送中!"),
        (
            ViolationKind::Char { ch: '!' },
            "只能包含汉字，不能包含“!”".into(),
            "may contain only Chinese characters, not '!'".into()
        )
    );
    assert_eq!(reject(K::Phrase, "OK").0, ViolationKind::Char { ch: 'O' });
    assert_eq!(
        reject(K::Phrase, "等待买家付款").0,
        ViolationKind::TooLong { max: 5, got: 6 }
    );
}

#[test]
fn const_and_enum_must_be_an_approved_value_when_the_values_are_known() {
    let allowed = vec!["维修".to_string(), "安装".to_string()];
    for kind in [K::Const, K::Enum] {
        assert_eq!(validate_with_allowed(kind, "维修", Some(&allowed)), Ok(()));
        let v = validate_with_allowed(kind, "保养", Some(&allowed)).unwrap_err();
        assert_eq!(v.kind, ViolationKind::NotAllowed);
        assert_eq!(v.zh, "须为该模板审核通过的取值之一：维修、安装");
        assert_eq!(
            v.en,
            "must be one of the template's approved values: 维修, 安装"
        );
        // Unknown approved values: any one-line value may be the right one.
        assert_eq!(validate(kind, "保养"), Ok(()));
    }
}

#[test]
fn short_thing_takes_thing_characters_up_to_5() {
    accept(K::ShortThing, &["顺丰", "ab 12"]);
    assert_eq!(
        reject(K::ShortThing, "顺丰速运快递").0,
        ViolationKind::TooLong { max: 5, got: 6 }
    );
}

#[test]
fn display_removes_emoji_joins_lines_and_cuts_after_20_characters() {
    assert_eq!(preview_truncation("订单已发货"), "订单已发货");
    assert_eq!(preview_truncation("发货啦🎉🎉"), "发货啦");
    assert_eq!(preview_truncation("第一行\r\n第二行"), "第一行 第二行");
    let long = "一二三四五六七八九十一二三四五六七八九十超出";
    assert_eq!(
        preview_truncation(long),
        "一二三四五六七八九十一二三四五六七八九十…"
    );
    // Exactly 20 after emoji removal is not cut.
    let d = display(&format!("{}😀", "字".repeat(20)));
    assert_eq!(
        (d.text.as_str(), d.cut, d.emoji_removed),
        ("字字字字字字字字字字字字字字字字字字字字", false, true)
    );
    assert_eq!(display_field(K::First, "您好"), None);
    assert_eq!(display_field(K::Remark, "谢谢"), None);
    assert_eq!(
        display_field(K::Thing, "ok").map(|d| d.text),
        Some("ok".to_string())
    );
}
