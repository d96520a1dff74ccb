//! The rules of protocol L as methods of [`CodeState`]: pure functions of the state, the
//! request and `now`, answering WeChat's errcodes (L.6). The audit clock is [`CodeState::settle`].

use serde_json::Value;

use super::{
    AuditPush, CodeState, DELAY_REASON, Draft, Exp, FAIL_REASON, FAIL_SCREENSHOT, MAX_HISTORY,
    MAX_TEMPLATES, MiniCode, Outcome, Release, SPEEDUP_LIMIT, TEMPLATE_PAGES, Template,
    UNDO_PER_DAY, UNDO_PER_MONTH,
};
use crate::state::{ApiErr, ApiResult};

const MONTH: i64 = 30 * 86_400;

/// What `commit` was asked for.
pub struct CommitArgs<'a> {
    pub template_id: i64,
    pub ext_json: &'a str,
    pub user_version: &'a str,
    pub user_desc: &'a str,
}

fn err(code: i64, msg: &str) -> ApiErr {
    ApiErr::new(code, msg)
}

/// The ext.json of a commit, checked as WeChat does (L.5): a JSON object whose `pages`,
/// `extPages` and `tabBar.list` name only the template's pages; a standard template takes only
/// `extAppid`, `ext` and `window`.
pub fn check_ext(ext_json: &str, template_type: i64) -> ApiResult<(Value, Vec<String>)> {
    let ext: Value = if ext_json.trim().is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_str(ext_json).map_err(|_| err(85048, "parse ext.json failed"))?
    };
    let Value::Object(m) = &ext else {
        return Err(err(85048, "parse ext.json failed"));
    };
    if template_type == 1
        && m.keys()
            .any(|k| !matches!(k.as_str(), "extAppid" | "ext" | "window"))
    {
        return Err(err(9402203, "标准模板extjson错误"));
    }
    let known = |p: &str| TEMPLATE_PAGES.contains(&p);
    let not_exist = || err(85045, "some path in ext_json not exist");
    let pages: Vec<String> = match m.get("pages") {
        None => TEMPLATE_PAGES.iter().map(|p| (*p).to_string()).collect(),
        Some(Value::Array(list)) => {
            if list.is_empty() {
                return Err(err(85047, "pages 字段为空"));
            }
            let mut pages = Vec::new();
            for p in list {
                let p = p.as_str().ok_or_else(|| err(85013, "无效的自定义配置"))?;
                if !known(p) {
                    return Err(not_exist());
                }
                pages.push(p.to_string());
            }
            pages
        }
        Some(_) => return Err(err(85013, "无效的自定义配置")),
    };
    if let Some(ext_pages) = m.get("extPages") {
        let ext_pages = ext_pages
            .as_object()
            .ok_or_else(|| err(85013, "无效的自定义配置"))?;
        if ext_pages.keys().any(|p| !known(p)) {
            return Err(not_exist());
        }
    }
    if let Some(list) = m.get("tabBar").and_then(|t| t.get("list")) {
        for item in list.as_array().into_iter().flatten() {
            let path = item
                .get("pagePath")
                .and_then(Value::as_str)
                .ok_or_else(|| err(85046, "tabBar 中缺少 path"))?;
            if !pages.iter().any(|p| p == path) {
                return Err(not_exist());
            }
        }
    }
    Ok((ext, pages))
}

impl CodeState {
    pub fn mini(&mut self, account: u16) -> &mut MiniCode {
        self.minis.entry(account).or_default()
    }

    pub fn quota_used(&self, now: i64) -> u32 {
        if self.quota.0 == now.div_euclid(MONTH) {
            self.quota.1
        } else {
            0
        }
    }

    pub fn speedups_used(&self, now: i64) -> u32 {
        if self.speedups.0 == now.div_euclid(MONTH) {
            self.speedups.1
        } else {
            0
        }
    }

    // ---- template library ----

    pub fn add_to_template(
        &mut self,
        draft_id: i64,
        template_type: i64,
        now: i64,
    ) -> ApiResult<()> {
        let d: Draft = self
            .drafts
            .iter()
            .find(|d| d.draft_id == draft_id)
            .cloned()
            .ok_or_else(|| err(85064, "template not found"))?;
        let same_type = self
            .templates
            .iter()
            .filter(|t| t.template_type == template_type)
            .count();
        if same_type >= MAX_TEMPLATES {
            return Err(err(85065, "template list is full"));
        }
        let id = self.next_template_id;
        self.next_template_id += 1;
        self.templates.push(Template {
            template_id: id,
            draft_id,
            user_version: d.user_version,
            user_desc: d.user_desc,
            create_time: now,
            template_type,
            source_appid: d.source_appid,
            source_name: d.source_name,
        });
        Ok(())
    }

    pub fn delete_template(&mut self, template_id: i64) -> ApiResult<()> {
        let before = self.templates.len();
        self.templates.retain(|t| t.template_id != template_id);
        if self.templates.len() == before {
            return Err(err(85064, "template not found"));
        }
        Ok(())
    }

    // ---- code and audits ----

    /// Creates or replaces the 体验版. Accepted while an audit is pending or approved (L.0):
    /// what is under audit stays what was submitted.
    pub fn commit(
        &mut self,
        account: u16,
        a: &CommitArgs<'_>,
        now: i64,
        privacy_secs: i64,
    ) -> ApiResult<()> {
        let template = self
            .templates
            .iter()
            .find(|t| t.template_id == a.template_id)
            .ok_or_else(|| err(85014, "template not exist"))?;
        if a.user_version.chars().count() > 64 {
            return Err(err(85015, "版本输入错误"));
        }
        let (ext, pages) = check_ext(a.ext_json, template.template_type)?;
        let exp = Exp {
            template_id: template.template_id,
            user_version: a.user_version.to_string(),
            user_desc: a.user_desc.to_string(),
            ext,
            pages,
            committed_at: now,
            privacy_ready_at: now + privacy_secs,
        };
        let m = self.mini(account);
        m.exp = Some(exp);
        m.commits += 1;
        Ok(())
    }

    /// Submits the 体验版; returns the auditid. `items` are the audit items' (address,
    /// category) pairs, already read from the body.
    pub fn submit(
        &mut self,
        account: u16,
        items: &[(String, Option<(String, String)>)],
        now: i64,
        audit_secs: i64,
        quota_limit: u32,
    ) -> ApiResult<i64> {
        let used = self.quota_used(now);
        let m = self.mini(account);
        let exp = m
            .exp
            .clone()
            .ok_or_else(|| err(85086, "must commit before submit audit"))?;
        if m.audits.iter().any(super::Audit::pending) {
            return Err(err(85009, "already submit a version under auditing"));
        }
        if now < exp.privacy_ready_at {
            return Err(err(61039, "隐私接口检查任务未完成，请稍等一分钟再重试"));
        }
        for (address, category) in items {
            if !address.is_empty() && !exp.pages.contains(address) {
                return Err(err(85007, "page is in invalid format"));
            }
            if let Some((first, second)) = category
                && !super::CATEGORIES
                    .iter()
                    .any(|(f, s, _, _)| f == first && s == second)
            {
                return Err(err(85008, "category is in invalid format"));
            }
        }
        if used >= quota_limit {
            return Err(err(85085, "submit audit reach limit, please try later"));
        }
        let outcome = match exp.ext.get("sim_audit").and_then(Value::as_str) {
            Some("fail") => Outcome::Fail,
            Some("delay") => Outcome::Delay,
            _ => Outcome::Pass,
        };
        let auditid = self.next_auditid;
        self.next_auditid += 1;
        self.quota = (now.div_euclid(MONTH), used + 1);
        self.audit_owner.insert(auditid, account);
        self.mini(account).audits.push(super::Audit {
            auditid,
            version: exp,
            submitted_at: now,
            due_at: now + audit_secs,
            outcome,
            status: 2,
            reason: None,
            screenshot: None,
            sped_up: false,
            released: false,
        });
        Ok(auditid)
    }

    /// The audit `auditid` of `account`; 85012 for an unknown or someone else's id.
    pub fn audit(&self, account: u16, auditid: i64) -> ApiResult<&super::Audit> {
        if self.audit_owner.get(&auditid) != Some(&account) {
            return Err(err(85012, "invalid audit id"));
        }
        self.minis
            .get(&account)
            .and_then(|m| m.audits.iter().find(|a| a.auditid == auditid))
            .ok_or_else(|| err(85012, "invalid audit id"))
    }

    /// 撤回: the pending audit becomes 3 已撤回 (5 a day, 10 a month; the quota is not given
    /// back — L.9 leaves it open).
    pub fn undo(&mut self, account: u16, now: i64) -> ApiResult<()> {
        let (day, month) = (now.div_euclid(86_400), now.div_euclid(MONTH));
        let m = self.mini(account);
        let Some(a) = m.audits.last_mut().filter(|a| a.pending()) else {
            return Err(err(87012, "forbid revert this version release"));
        };
        let day_used = if m.undo_day.0 == day { m.undo_day.1 } else { 0 };
        let month_used = if m.undo_month.0 == month {
            m.undo_month.1
        } else {
            0
        };
        if day_used >= UNDO_PER_DAY || month_used >= UNDO_PER_MONTH {
            return Err(err(87013, "no quota to undo code"));
        }
        a.status = 3;
        a.reason = None;
        m.undo_day = (day, day_used + 1);
        m.undo_month = (month, month_used + 1);
        Ok(())
    }

    /// 加急: the audit ends within half of `audit_secs` from now.
    pub fn speedup(
        &mut self,
        account: u16,
        auditid: i64,
        now: i64,
        audit_secs: i64,
    ) -> ApiResult<()> {
        self.audit(account, auditid)?;
        let used = self.speedups_used(now);
        let m = self.mini(account);
        let a = m
            .audits
            .iter_mut()
            .find(|a| a.auditid == auditid)
            .ok_or_else(|| err(85012, "invalid audit id"))?;
        if !a.pending() {
            return Err(err(
                89402,
                "该审核单不在待审核队列，请检查是否已提交审核或已审完",
            ));
        }
        if a.sped_up {
            return Err(err(89404, "本单已加速成功，请勿重复提交"));
        }
        if used >= SPEEDUP_LIMIT {
            return Err(err(89405, "本月加急额度不足，请提升提审质量以获取更多额度"));
        }
        a.sped_up = true;
        a.due_at = a.due_at.min(now + audit_secs / 2);
        self.speedups = (now.div_euclid(MONTH), used + 1);
        Ok(())
    }

    /// 发布 the latest audit's version if it was approved and not released yet.
    pub fn release(&mut self, account: u16, now: i64) -> ApiResult<()> {
        let m = self.mini(account);
        let Some(a) = m.audits.last_mut() else {
            return Err(err(85019, "no version is under auditing"));
        };
        if a.status != 0 {
            return Err(err(85020, "status not allowed"));
        }
        if a.released {
            return Err(err(85052, "app is already released"));
        }
        a.released = true;
        let v = a.version.clone();
        let release = Release {
            app_version: m.next_app_version,
            template_id: v.template_id,
            user_version: v.user_version.clone(),
            user_desc: v.user_desc,
            released_at: now,
        };
        m.next_app_version += 1;
        if let Some(old) = m.release.replace(release) {
            m.history.push(old);
            if m.history.len() > MAX_HISTORY {
                m.history.remove(0);
            }
        }
        m.reverted = false;
        *m.releases.entry(v.user_version).or_insert(0) += 1;
        m.visit_open = true;
        Ok(())
    }

    /// 版本回退 to `app_version`, or else the previous online version. The version rolled back
    /// from is gone, and a rolled-back version cannot be rolled back again (87012).
    pub fn revert(&mut self, account: u16, app_version: Option<i64>) -> ApiResult<()> {
        let m = self.mini(account);
        if m.reverted || m.release.is_none() {
            return Err(err(87012, "forbid revert this version release"));
        }
        let i = match app_version {
            Some(v) => m.history.iter().position(|r| r.app_version == v),
            None => m.history.len().checked_sub(1),
        }
        .ok_or_else(|| err(87012, "forbid revert this version release"))?;
        let target = m.history.remove(i);
        m.history.truncate(i);
        m.release = Some(target);
        m.reverted = true;
        m.reverts += 1;
        Ok(())
    }

    /// Ends the audits that are due: pass, fail with a reason, or delay then pass. Returns the
    /// pushes to send, by account, in order.
    pub fn settle(&mut self, now: i64, audit_secs: i64) -> Vec<(u16, AuditPush)> {
        let mut out = Vec::new();
        let mut accounts: Vec<u16> = self.minis.keys().copied().collect();
        accounts.sort_unstable();
        for account in accounts {
            let Some(a) = self
                .minis
                .get_mut(&account)
                .and_then(|m| m.audits.last_mut())
                .filter(|a| a.pending())
            else {
                continue;
            };
            if now < a.due_at {
                continue;
            }
            match a.outcome {
                Outcome::Fail => {
                    a.status = 1;
                    a.reason = Some(FAIL_REASON.into());
                    a.screenshot = Some(FAIL_SCREENSHOT.into());
                    out.push((
                        account,
                        AuditPush {
                            event: "weapp_audit_fail",
                            at: a.due_at,
                            reason: a.reason.clone(),
                            screenshot: a.screenshot.clone(),
                        },
                    ));
                }
                Outcome::Delay if a.status == 2 => {
                    a.status = 4;
                    a.reason = Some(DELAY_REASON.into());
                    out.push((
                        account,
                        AuditPush {
                            event: "weapp_audit_delay",
                            at: a.due_at,
                            reason: a.reason.clone(),
                            screenshot: None,
                        },
                    ));
                    // The final answer comes one more audit_secs later (a later settle).
                    a.due_at += audit_secs.max(1);
                }
                Outcome::Pass | Outcome::Delay => {
                    a.status = 0;
                    a.reason = None;
                    out.push((
                        account,
                        AuditPush {
                            event: "weapp_audit_success",
                            at: a.due_at,
                            reason: None,
                            screenshot: None,
                        },
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with_commit(ext: &str) -> CodeState {
        let mut s = super::super::seeded(1_000_000);
        s.commit(
            1,
            &CommitArgs {
                template_id: 1,
                ext_json: ext,
                user_version: "1.0.0",
                user_desc: "d",
            },
            100,
            0,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        s
    }

    #[test]
    fn ext_json_must_be_an_object_naming_only_template_pages() {
        assert_eq!(
            check_ext("[1]", 0).map(|_| ()),
            Err(err(85048, "parse ext.json failed"))
        );
        assert_eq!(check_ext("{", 0).map_err(|e| e.code), Err(85048));
        assert_eq!(
            check_ext(r#"{"pages":["pages/nope"]}"#, 0).map_err(|e| e.code),
            Err(85045)
        );
        assert_eq!(
            check_ext(r#"{"pages":[]}"#, 0).map_err(|e| e.code),
            Err(85047)
        );
        assert_eq!(
            check_ext(r#"{"tabBar":{"list":[{"text":"x"}]}}"#, 0).map_err(|e| e.code),
            Err(85046)
        );
        assert_eq!(
            check_ext(r#"{"extPages":{"pages/x":{}}}"#, 0).map_err(|e| e.code),
            Err(85045)
        );
        assert_eq!(
            check_ext(r#"{"pages":["x"]}"#, 1).map_err(|e| e.code),
            Err(9402203)
        );
        let (_, pages) = check_ext(r#"{"pages":["pages/order/list"],"ext":{"a":"b"}}"#, 0)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(pages, vec!["pages/order/list"]);
    }

    #[test]
    fn one_pending_audit_then_pass_release_once_and_roll_back_once() {
        let mut s = state_with_commit("{}");
        let id = s
            .submit(1, &[], 100, 2, 100)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            s.submit(1, &[], 100, 2, 100).map_err(|e| e.code),
            Err(85009)
        );
        assert_eq!(s.release(1, 100).map_err(|e| e.code), Err(85020));
        assert!(s.settle(101, 2).is_empty(), "not due yet");
        let pushed = s.settle(102, 2);
        assert_eq!(pushed.len(), 1);
        assert_eq!(pushed[0].1.event, "weapp_audit_success");
        assert_eq!(s.audit(1, id).map(|a| a.status), Ok(0));
        assert_eq!(
            s.audit(2, id).map(|a| a.status).map_err(|e| e.code),
            Err(85012)
        );
        s.release(1, 103).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.release(1, 104).map_err(|e| e.code), Err(85052));
        assert_eq!(
            s.revert(1, None).map_err(|e| e.code),
            Err(87012),
            "nothing before"
        );
        // A second version, then back to the first.
        s.commit(
            1,
            &CommitArgs {
                template_id: 2,
                ext_json: "",
                user_version: "1.1.0",
                user_desc: "",
            },
            110,
            0,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        s.submit(1, &[], 110, 2, 100)
            .unwrap_or_else(|e| panic!("{e:?}"));
        s.settle(120, 2);
        s.release(1, 121).unwrap_or_else(|e| panic!("{e:?}"));
        s.revert(1, None).unwrap_or_else(|e| panic!("{e:?}"));
        let m = &s.minis[&1];
        assert_eq!(
            m.release.as_ref().map(|r| r.user_version.as_str()),
            Some("1.0.0")
        );
        assert_eq!(m.releases.get("1.0.0"), Some(&1));
        assert_eq!(m.releases.get("1.1.0"), Some(&1));
        assert_eq!(
            s.revert(1, None).map_err(|e| e.code),
            Err(87012),
            "no chained revert"
        );
    }

    #[test]
    fn sim_audit_fail_rejects_with_a_reason_and_delay_delays_then_passes() {
        let mut s = state_with_commit(r#"{"sim_audit":"fail"}"#);
        s.submit(1, &[], 100, 2, 100)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let p = s.settle(102, 2);
        assert_eq!(p[0].1.event, "weapp_audit_fail");
        assert_eq!(p[0].1.reason.as_deref(), Some(FAIL_REASON));
        assert_eq!(s.release(1, 103).map_err(|e| e.code), Err(85020));

        let mut s = state_with_commit(r#"{"sim_audit":"delay"}"#);
        s.submit(1, &[], 100, 2, 100)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.settle(102, 2)[0].1.event, "weapp_audit_delay");
        assert!(s.settle(103, 2).is_empty());
        assert_eq!(s.settle(104, 2)[0].1.event, "weapp_audit_success");
    }

    #[test]
    fn quota_privacy_check_undo_and_speedup_rules() {
        let mut s = state_with_commit("{}");
        assert_eq!(s.submit(1, &[], 100, 2, 0).map_err(|e| e.code), Err(85085));
        s.commit(
            1,
            &CommitArgs {
                template_id: 1,
                ext_json: "",
                user_version: "1",
                user_desc: "",
            },
            100,
            60,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.submit(1, &[], 159, 2, 9).map_err(|e| e.code), Err(61039));
        let id = s
            .submit(1, &[], 160, 100, 9)
            .unwrap_or_else(|e| panic!("{e:?}"));
        s.speedup(1, id, 160, 100)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.speedup(1, id, 160, 100).map_err(|e| e.code), Err(89404));
        assert_eq!(s.audit(1, id).map(|a| a.due_at), Ok(210));
        s.undo(1, 161).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.audit(1, id).map(|a| a.status), Ok(3));
        assert_eq!(s.undo(1, 162).map_err(|e| e.code), Err(87012));
        assert_eq!(s.quota_used(162), 1);
        let bad = [("pages/none".to_string(), None)];
        assert_eq!(s.submit(1, &bad, 200, 2, 9).map_err(|e| e.code), Err(85007));
        let cat = [(
            String::new(),
            Some(("游戏".to_string(), "休闲".to_string())),
        )];
        assert_eq!(s.submit(1, &cat, 200, 2, 9).map_err(|e| e.code), Err(85008));
    }

    #[test]
    fn the_library_adds_from_drafts_and_deletes() {
        let mut s = super::super::seeded(0);
        s.add_to_template(3, 0, 5)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            s.templates.last().map(|t| (t.template_id, t.draft_id)),
            Some((3, 3))
        );
        assert_eq!(s.add_to_template(99, 0, 5).map_err(|e| e.code), Err(85064));
        s.delete_template(3).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(s.delete_template(3).map_err(|e| e.code), Err(85064));
    }
}
