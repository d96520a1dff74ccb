//! Recipient-list import: GBK and UTF-8 (BOM) CSV and XLSX with variable columns, the preview's
//! counts (invalid rows with line numbers, duplicates, non-followers), saving and reading back.

#![allow(clippy::unwrap_used)]

use crate::audience_support;

use std::collections::BTreeMap;

use audience_support::{apply_follow, audience, store};
use wxdesk_core::audience::import;
use wxdesk_core::audience::import::{ImportPreview, WECHAT_OPENID_LEN};
use wxdesk_core::audience::{
    DuplicateRow, FollowerFilter, ImportOptions, ImportSource, ListSource, OpenidProblem,
    SourceFormat, table,
};
use wxdesk_core::store::Store;

fn oid(n: u32) -> String {
    format!("oTEST{n:023}")
}

/// Followers 0..10 follow; 10 has unsubscribed.
async fn seed_followers(store: &Store, appid: &str) {
    let appid = appid.to_string();
    store
        .call(move |c| {
            let tx = c.transaction()?;
            for n in 0..=10 {
                apply_follow(&tx, &appid, &oid(n), 1_700_000_000, true)?;
            }
            apply_follow(&tx, &appid, &oid(10), 1_700_000_100, false)?;
            tx.commit()?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn gbk_csv_with_variables_previews_every_count_and_saves_the_members_with_their_vars() {
    let store = store();
    let appid = "wxaccount0000001";
    seed_followers(&store, appid).await;
    let csv = format!(
        "姓名,OpenID,订单号\n\
         张三,{o0},SO-1\n\
         李四,{o1},SO-2\n\
         王五,not-an-openid,SO-3\n\
         赵六,,SO-4\n\
         张三,{o0},SO-1-dup\n\
         \n\
         钱七,{o10},SO-5\n\
         孙八,{o99},SO-6\n",
        o0 = oid(0),
        o1 = oid(1),
        o10 = oid(10),
        o99 = oid(99),
    );
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&csv);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "the test file must really be GBK"
    );

    // A file as the operator picks it, so the saved list remembers its name.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("客户.csv");
    std::fs::write(&file, gbk.as_ref()).unwrap();
    let audience = audience(&store);
    let preview = audience
        .import_preview(
            appid,
            ImportSource::File(file.clone()),
            ImportOptions::default(),
        )
        .await
        .unwrap();
    let p = &preview;
    assert_eq!(p.format, SourceFormat::CsvGbk);
    assert!(p.has_header);
    assert_eq!(
        (p.openid_column.as_str(), p.openid_column_index),
        ("OpenID", 1)
    );
    assert_eq!(p.variables, vec!["姓名".to_string(), "订单号".to_string()]);
    assert_eq!(p.rows_read, 7, "blank line skipped, header not counted");
    assert_eq!((p.valid, p.invalid_count, p.duplicates_removed), (4, 2, 1));
    let invalid: Vec<(u64, &str, OpenidProblem)> = p
        .invalid
        .iter()
        .map(|r| (r.line, r.value.as_str(), r.problem))
        .collect();
    assert_eq!(
        invalid,
        vec![
            (4, "not-an-openid", OpenidProblem::WrongLength),
            (5, "", OpenidProblem::Empty),
        ]
    );
    assert_eq!(
        p.invalid[0].reason().zh,
        "openid 长度不对：应为 28 位，此处 13 位",
        "its characters are all an openid may hold: only the length is wrong"
    );
    // 张三's second row carries another order number: dropped, but listed beside the row kept.
    assert_eq!(p.conflicting_count, 1);
    let c = &p.conflicting[0];
    assert_eq!(
        (c.openid.as_str(), c.kept_line, c.dropped_line),
        (oid(0).as_str(), 2, 6)
    );
    assert_eq!(
        (c.kept_values[1].as_str(), c.dropped_values[1].as_str()),
        ("SO-1", "SO-1-dup")
    );
    assert!(p.following_checked);
    assert_eq!(p.not_following_count, 2);
    assert_eq!(p.not_following, vec![oid(10), oid(99)]);
    assert_eq!(p.sample.len(), 4);
    assert_eq!(p.sample[0].openid, oid(0));
    assert_eq!(
        p.sample[0].values,
        vec!["张三".to_string(), "SO-1".to_string()]
    );

    let saved = audience
        .import_save(
            appid,
            "双十一客户",
            ImportSource::File(file),
            ImportOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(&saved.preview, p, "saving reads what the preview read");
    let list = audience.list(saved.list.id).await.unwrap().unwrap();
    assert_eq!(list, saved.list);
    let members = audience.members(list.id, None, 100).await.unwrap();
    assert_eq!(list.name, "双十一客户");
    assert_eq!(list.member_count, 4);
    assert_eq!(
        list.variables,
        vec!["姓名".to_string(), "订单号".to_string()]
    );
    assert_eq!(
        list.source,
        ListSource::File {
            file_name: "客户.csv".into()
        }
    );
    let li = members.items.iter().find(|m| m.openid == oid(1)).unwrap();
    assert_eq!(
        li.vars,
        BTreeMap::from([
            ("姓名".to_string(), "李四".to_string()),
            ("订单号".to_string(), "SO-2".to_string())
        ])
    );
    assert_eq!(members.next_after, None);
}

#[tokio::test]
async fn utf8_bom_csv_without_header_finds_the_openid_column_by_shape() {
    let store = store();
    let body = format!("\u{FEFF}VIP,{}\r\n普通,{}\r\n", oid(3), oid(4));
    let p = &audience(&store)
        .import_preview(
            "wxa",
            ImportSource::Bytes(body.into_bytes()),
            ImportOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(p.format, SourceFormat::CsvUtf8Bom);
    assert!(!p.has_header);
    assert_eq!(
        (p.openid_column.as_str(), p.variables.clone()),
        ("列2", vec!["列1".to_string()])
    );
    assert_eq!((p.rows_read, p.valid), (2, 2));
    // Nothing synced for this account: nothing can be called "not following".
    assert!(!p.following_checked);
    assert_eq!(p.not_following_count, 0);
}

#[tokio::test]
async fn xlsx_first_sheet_imports_with_numbers_and_dates_as_text() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    sheet.write_string(0, 0, "用户openid").unwrap();
    sheet.write_string(0, 1, "积分").unwrap();
    sheet.write_string(0, 2, "到期日").unwrap();
    for (row, n) in [(1u32, 5u32), (2, 6)] {
        sheet.write_string(row, 0, oid(n)).unwrap();
        sheet.write_number(row, 1, f64::from(n) * 100.0).unwrap();
        let d = ExcelDateTime::from_ymd(2025, 1, 31).unwrap();
        sheet.write_datetime_with_format(row, 2, &d, &date).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();

    let store = store();
    let p = &audience(&store)
        .import_preview("wxa", ImportSource::Bytes(bytes), ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(p.format, SourceFormat::Xlsx);
    assert_eq!(p.openid_column, "用户openid");
    assert_eq!(p.variables, vec!["积分".to_string(), "到期日".to_string()]);
    assert_eq!(p.valid, 2);
    assert_eq!(
        p.sample[0].values,
        vec!["500".to_string(), "2025-01-31".to_string()]
    );
    assert_eq!(p.sample[1].openid, oid(6));
}

#[tokio::test]
async fn pasted_openids_one_per_line_become_a_list_without_variables() {
    let store = store();
    let audience = audience(&store);
    let text = format!("{}\n{}\n\n{}\n", oid(1), oid(2), oid(1));
    let saved = audience
        .import_save(
            "wxa",
            "粘贴名单",
            ImportSource::Pasted(text),
            ImportOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(saved.preview.format, SourceFormat::Pasted);
    assert!(saved.preview.variables.is_empty());
    assert_eq!(
        (saved.preview.valid, saved.preview.duplicates_removed),
        (2, 1)
    );
    assert_eq!(saved.list.source, ListSource::Pasted);
    // A second list with the same name is refused with a clear message, in both languages.
    let err = audience
        .import_save(
            "wxa",
            " 粘贴名单 ",
            ImportSource::Pasted(oid(3)),
            ImportOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "已有名为「粘贴名单」的名单，请换一个名称");
    assert_eq!(
        err.message(wxdesk_core::Lang::En),
        "A list named \"粘贴名单\" exists already: choose another name."
    );
    let n = audience
        .list(saved.list.id)
        .await
        .unwrap()
        .unwrap()
        .member_count;
    assert_eq!(n, 2);
}

#[tokio::test]
async fn lists_from_all_followers_and_from_a_tag_take_only_current_followers() {
    let store = store();
    let appid = "wxaccount0000001";
    seed_followers(&store, appid).await;
    let audience = audience(&store);
    let all = audience
        .list_from_followers(appid, "全部粉丝", FollowerFilter::default())
        .await
        .unwrap();
    // Tag 100 on followers 2 and 3 (as a batchget would have stored them).
    let id = appid.to_string();
    store
        .call(move |c| {
            for n in [2, 3, 10] {
                c.execute(
                    "INSERT INTO follower_tags (appid, tag_id, openid) VALUES (?1, 100, ?2)",
                    rusqlite::params![id, oid(n)],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let filter = FollowerFilter {
        tag_id: Some(100),
        ..Default::default()
    };
    let tagged = audience
        .list_from_followers(appid, "标签100", filter)
        .await
        .unwrap();
    let members = audience.members(tagged.id, None, 10).await.unwrap();
    assert_eq!(
        all.member_count, 10,
        "the unsubscribed follower is left out"
    );
    assert_eq!(tagged.member_count, 2);
    let openids: Vec<String> = members.items.into_iter().map(|m| m.openid).collect();
    assert_eq!(openids, vec![oid(2), oid(3)]);
    let listed = audience.lists(Some("wxaccount0000001")).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(audience.delete_list(tagged.id).await.unwrap());
    assert!(
        !audience.delete_list(tagged.id).await.unwrap(),
        "gone already"
    );
    assert_eq!(audience.lists(Some(appid)).await.unwrap(), vec![all]);
}

#[test]
fn openid_column_can_be_chosen_when_no_header_matches() {
    let t = table::read_bytes(format!("编号,号码\n1,{}\n", oid(7)).as_bytes()).unwrap();
    let opts = ImportOptions {
        openid_column: Some(0),
        has_header: Some(true),
    };
    let p = import::parse_table(t.clone(), &opts).unwrap().preview;
    assert_eq!(
        (p.openid_column.as_str(), p.valid, p.invalid_count),
        ("编号", 0, 1)
    );
    let err = import::parse_table(
        t,
        &ImportOptions {
            openid_column: Some(5),
            has_header: None,
        },
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "第 6 列不存在（文件只有 2 列）");
    let none = table::read_bytes("名字,电话\n张三,13800138000\n".as_bytes()).unwrap();
    let err = import::parse_table(none, &ImportOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "找不到 openid 列：请把列名写为 openid，或在导入时指定 openid 所在的列"
    );
}

fn preview_of(text: &str) -> ImportPreview {
    let t = table::read_bytes(text.as_bytes()).unwrap();
    import::parse_table(t, &ImportOptions::default())
        .unwrap()
        .preview
}

#[test]
fn a_repeated_openid_with_other_values_is_listed_beside_the_row_kept_and_an_identical_one_only_counted()
 {
    let csv = format!(
        "openid,姓名,金额\n{a},张三,10\n{b},李四,20\n{a},张三,10\n{a},张三,99\n{b},李斯,20\n",
        a = oid(1),
        b = oid(2),
    );
    let p = preview_of(&csv);
    assert_eq!(p.valid, 2, "one row per openid is kept");
    assert_eq!(
        p.duplicates_removed, 3,
        "every repeated row is counted, identical or not"
    );
    assert_eq!(
        p.conflicting_count, 2,
        "the identical repeat (line 4) is merged, counted above; the two that differ are listed"
    );
    let v = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
    let dup = |openid: String, kept_line, kept_values, dropped_line, dropped_values| DuplicateRow {
        openid,
        kept_line,
        kept_values,
        dropped_line,
        dropped_values,
    };
    assert_eq!(
        p.conflicting,
        vec![
            dup(oid(1), 2, v("张三", "10"), 5, v("张三", "99")),
            dup(oid(2), 3, v("李四", "20"), 6, v("李斯", "20")),
        ],
        "the first row wins and both rows' values are shown"
    );
    assert_eq!(
        p.sample[0].values,
        v("张三", "10"),
        "the first row is the one saved"
    );
}

#[test]
fn a_cut_off_openid_is_reported_as_the_wrong_length_not_as_bad_characters() {
    let short = &oid(3)[..10];
    let csv = format!("openid,姓名\n{},张三\n{short},李四\n王五,王五\n", oid(3));
    let p = preview_of(&csv);
    assert_eq!(p.invalid_count, 2);
    let short_row = &p.invalid[0];
    assert_eq!(
        (short_row.line, short_row.problem, short_row.length),
        (3, OpenidProblem::WrongLength, 10)
    );
    assert_eq!(WECHAT_OPENID_LEN, 28);
    let why = short_row.reason();
    assert_eq!(why.zh, "openid 长度不对：应为 28 位，此处 10 位");
    assert_eq!(
        why.en,
        "The openid has the wrong length: 28 characters expected, 10 here"
    );
    assert_eq!(
        p.invalid[1].problem,
        OpenidProblem::NotAnOpenid,
        "a name is not an openid of the wrong length"
    );
}

#[test]
fn an_openid_column_in_the_middle_keeps_the_other_cells_in_order_and_pads_short_rows() {
    let csv = format!(
        "姓名,openid,订单号,金额\n张三,{a},SO-1,10\n李四,{b}\n王五,{c},SO-3,30,多余\n",
        a = oid(1),
        b = oid(2),
        c = oid(3),
    );
    let t = table::read_bytes(csv.as_bytes()).unwrap();
    let prepared = import::parse_table(t, &ImportOptions::default()).unwrap();
    assert_eq!(prepared.preview.openid_column, "openid");
    assert_eq!(prepared.preview.rows_read, 3);
    let rows: Vec<(String, Vec<String>)> = prepared
        .rows
        .into_iter()
        .map(|r| (r.openid, r.values))
        .collect();
    // The widest row sets the columns: the extra cell gets a name of its own, a short row is
    // padded with empty values, and the openid's cell is never among the values.
    assert_eq!(
        prepared.preview.variables,
        ["姓名", "订单号", "金额", "列5"]
    );
    assert_eq!(
        rows,
        [
            (
                oid(1),
                vec!["张三".into(), "SO-1".into(), "10".into(), String::new()]
            ),
            (
                oid(2),
                vec!["李四".into(), String::new(), String::new(), String::new()]
            ),
            (
                oid(3),
                vec!["王五".into(), "SO-3".into(), "30".into(), "多余".into()]
            ),
        ]
    );
}
