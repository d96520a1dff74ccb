//! `Sim`: the world, the clock, the state and the pusher, and the operations several routes
//! share (tickets, authorization, revocation, user messages).

use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

use crate::clock::SimClock;
use crate::config::SimConfig;
use crate::ids;
use crate::push::{self, AuthEvent, Push, Pusher, Target};
use crate::state::{self, Authz, CODE_TTL, Inner, PreAuth, PrivTemplate, Window, recipient_key};
use crate::templates::{self, LIBRARY};
use crate::world::{Account, Person, World};

pub struct Sim {
    pub cfg: SimConfig,
    pub world: World,
    pub clock: SimClock,
    pub base_url: String,
    pub pusher: Pusher,
    inner: Mutex<Inner>,
    /// Sequence number of API calls, the input of the deterministic fault draw.
    pub fault_seq: AtomicU64,
}

/// Why an authorization could not be completed (shown on the login page or as JSON).
#[derive(Debug, Clone, PartialEq)]
pub enum AuthFail {
    UnknownPreAuthCode,
    PreAuthCodeUsed,
    PreAuthCodeExpired,
    UnknownAccount,
}

impl AuthFail {
    pub fn code(&self) -> &'static str {
        match self {
            AuthFail::UnknownPreAuthCode => "invalid_pre_auth_code",
            AuthFail::PreAuthCodeUsed => "pre_auth_code_used",
            AuthFail::PreAuthCodeExpired => "pre_auth_code_expired",
            AuthFail::UnknownAccount => "unknown_account",
        }
    }
    pub fn message(&self) -> &'static str {
        match self {
            AuthFail::UnknownPreAuthCode => "预授权码无效 / the pre_auth_code is invalid",
            AuthFail::PreAuthCodeUsed => {
                "预授权码已被使用，请重新发起授权 / the pre_auth_code was already used"
            }
            AuthFail::PreAuthCodeExpired => {
                "预授权码已过期，请重新发起授权 / the pre_auth_code has expired"
            }
            AuthFail::UnknownAccount => "该帐号不存在 / no such account",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Authorized {
    pub auth_code: String,
    pub redirect: Option<String>,
    pub info_type: &'static str,
}

impl Sim {
    pub fn new(
        cfg: SimConfig,
        world: World,
        clock: SimClock,
        base_url: String,
        pusher: Pusher,
    ) -> Sim {
        let mut inner = Inner {
            next_msgid: 2_000_000_000 + (ids::hash(cfg.seed, &[9]) % 1_000_000_000) as i64,
            ..Inner::default()
        };
        // Each verified service account starts with one private template of each library entry.
        for a in world.accounts.iter().filter(|a| a.can_send_templates()) {
            let list = LIBRARY
                .iter()
                .enumerate()
                .map(|(lib, t)| PrivTemplate {
                    template_id: ids::chars(cfg.seed, &[u64::from(a.index), lib as u64, 0x7E], 43),
                    lib,
                    keywords: (0..t.keywords.len()).collect(),
                })
                .collect();
            inner.templates.insert(a.index, list);
            inner.industry.insert(a.index, ("1".into(), "2".into()));
            // …and a few 订阅通知 templates already chosen: two one-time, one long-term.
            let subs = [
                (501, &[1u32, 2, 3][..]),
                (502, &[1, 2, 4][..]),
                (701, &[1, 2, 3][..]),
            ]
            .into_iter()
            .filter_map(|(tid, kids)| {
                let (lib, t) = crate::subscribe::lib(&tid.to_string())?;
                Some(crate::subscribe::SubTemplate {
                    pri_tmpl_id: ids::chars(cfg.seed, &[u64::from(a.index), lib as u64, 0x5E], 43),
                    lib,
                    keywords: kids
                        .iter()
                        .filter_map(|k| t.keywords.iter().position(|x| x.kid == *k))
                        .collect(),
                    scene: t.title.to_string(),
                })
            })
            .collect();
            inner.sub_templates.insert(a.index, subs);
        }
        inner.code = crate::code::seeded(clock.start());
        let now = clock.now();
        for pre in &cfg.authorized {
            match world.account(&pre.appid) {
                Some(a) => {
                    inner.authz.insert(
                        a.index,
                        Authz {
                            refresh_token: pre.refresh_token.clone(),
                            auth_time: now,
                        },
                    );
                }
                None => {
                    tracing::warn!(appid = %pre.appid, "pre-authorized appid is not in this world")
                }
            }
        }
        Sim {
            cfg,
            world,
            clock,
            base_url,
            pusher,
            inner: Mutex::new(inner),
            fault_seq: AtomicU64::new(0),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn quota_limit(&self, path: &str) -> u64 {
        self.cfg
            .quotas
            .get(path)
            .copied()
            .unwrap_or_else(|| state::default_quota(path))
    }

    /// The customer-service window a user's message opens (protocol I.1: 5 messages, 48 h).
    pub fn message_window(&self, at: i64) -> Window {
        Window {
            quota: self.cfg.cs_message_quota,
            ..Window::message(at)
        }
    }

    /// The window a push-menu click, a follow or a QR scan opens (3 messages, 1 minute).
    pub fn event_window(&self, at: i64) -> Window {
        Window {
            quota: self.cfg.cs_event_quota,
            ..Window::event(at)
        }
    }

    /// The permission sets `a` grants the platform, without those the configuration withholds.
    pub fn granted_sets(&self, a: &Account) -> Vec<u32> {
        self.world
            .func_info(a)
            .iter()
            .copied()
            .filter(|id| !self.cfg.withheld_permission_sets.contains(id))
            .collect()
    }

    pub fn avatar_url(&self, a: &Account) -> String {
        format!("{}/__sim/avatar/{}.svg", self.base_url, a.appid)
    }

    /// Make a fresh component_verify_ticket the latest and push it.
    pub fn push_ticket(&self) {
        let now = self.now();
        let ticket = ids::random_token("ticket@@@", 64);
        {
            let mut s = self.lock();
            s.ticket = Some((ticket.clone(), now));
            s.tickets_pushed += 1;
        }
        self.pusher.push(Push {
            target: Target::Component,
            xml: push::ticket_xml(&self.cfg.component_appid, now, &ticket),
        });
    }

    /// Remember where the login page will send the admin (its redirect_uri).
    pub fn check_pre_auth(&self, code: &str, redirect_uri: Option<&str>) -> Result<(), AuthFail> {
        let now = self.now();
        let mut s = self.lock();
        let p = s
            .pre_auth
            .get_mut(code)
            .ok_or(AuthFail::UnknownPreAuthCode)?;
        if p.used {
            return Err(AuthFail::PreAuthCodeUsed);
        }
        if now >= p.expires_at {
            return Err(AuthFail::PreAuthCodeExpired);
        }
        if let Some(r) = redirect_uri {
            p.redirect_uri = Some(r.to_string());
        }
        Ok(())
    }

    pub fn new_pre_auth_code(&self) -> String {
        let now = self.now();
        let code = ids::random_token("preauthcode@@@", 48);
        let mut s = self.lock();
        s.pre_auth.insert(
            code.clone(),
            PreAuth {
                expires_at: now + CODE_TTL,
                used: false,
                redirect_uri: None,
            },
        );
        s.issued.pre_auth_code += 1;
        if s.pre_auth.len() > 10_000 {
            s.pre_auth.retain(|_, p| !p.used && p.expires_at > now);
        }
        code
    }

    /// What the admin pressing 授权 does: consume the pre_auth_code, (re)authorize the account
    /// with a new refresh token, and push `authorized` / `updateauthorized`.
    pub fn authorize(
        &self,
        pre_auth_code: &str,
        appid: &str,
        redirect_override: Option<&str>,
    ) -> Result<Authorized, AuthFail> {
        let a = self.world.account(appid).ok_or(AuthFail::UnknownAccount)?;
        let now = self.now();
        let auth_code = ids::random_token("queryauthcode@@@", 48);
        let (info_type, redirect_uri) = {
            let mut s = self.lock();
            let p = s
                .pre_auth
                .get_mut(pre_auth_code)
                .ok_or(AuthFail::UnknownPreAuthCode)?;
            if p.used {
                return Err(AuthFail::PreAuthCodeUsed);
            }
            if now >= p.expires_at {
                return Err(AuthFail::PreAuthCodeExpired);
            }
            p.used = true;
            let redirect_uri = redirect_override
                .map(str::to_string)
                .or_else(|| p.redirect_uri.clone());
            let info_type = if s.authz.contains_key(&a.index) {
                "updateauthorized"
            } else {
                "authorized"
            };
            s.authz.insert(
                a.index,
                Authz {
                    refresh_token: ids::random_token("refreshtoken@@@", 64),
                    auth_time: now,
                },
            );
            if s.auth_codes.len() > 10_000 {
                s.auth_codes.retain(|_, c| !c.used && c.expires_at > now);
            }
            s.auth_codes.insert(
                auth_code.clone(),
                state::AuthCode {
                    account: a.index,
                    expires_at: now + CODE_TTL,
                    used: false,
                },
            );
            (info_type, redirect_uri)
        };
        self.pusher.push(Push {
            target: Target::Component,
            xml: push::auth_xml(&AuthEvent {
                component_appid: &self.cfg.component_appid,
                create_time: now,
                info_type,
                authorizer_appid: &a.appid,
                code: Some((&auth_code, now + CODE_TTL, pre_auth_code)),
            }),
        });
        let redirect = redirect_uri.map(|r| {
            let enc: String = url::form_urlencoded::byte_serialize(auth_code.as_bytes()).collect();
            let sep = if r.contains('?') { '&' } else { '?' };
            format!("{r}{sep}auth_code={enc}&expires_in={CODE_TTL}")
        });
        Ok(Authorized {
            auth_code,
            redirect,
            info_type,
        })
    }

    /// The account cancels the authorization: its tokens and refresh token die, `unauthorized`
    /// is pushed. Returns false if it was not authorized.
    pub fn revoke(&self, appid: &str) -> bool {
        let Some(a) = self.world.account(appid) else {
            return false;
        };
        {
            let mut s = self.lock();
            if s.authz.remove(&a.index).is_none() {
                return false;
            }
            s.drop_authorizer_tokens(a.index);
        }
        self.pusher.push(Push {
            target: Target::Component,
            xml: push::auth_xml(&AuthEvent {
                component_appid: &self.cfg.component_appid,
                create_time: self.now(),
                info_type: "unauthorized",
                authorizer_appid: &a.appid,
                code: None,
            }),
        });
        true
    }

    /// A user texts the account: opens the 48-hour window and pushes the text message.
    pub fn user_message(&self, a: &Account, openid: &str, content: &str) -> Option<i64> {
        let index = match self.world.person(a, openid)? {
            Person::Follower(i) | Person::Former(i) => i,
        };
        let now = self.now();
        let msg_id = {
            let mut s = self.lock();
            s.windows
                .insert(recipient_key(a.index, index), self.message_window(now));
            s.next_msgid()
        };
        self.pusher.push(Push {
            target: Target::Account {
                appid: a.appid.clone(),
                user_name: a.user_name.clone(),
                openid: Some(openid.to_string()),
            },
            xml: push::text_xml(&a.user_name, openid, now, content, msg_id),
        });
        Some(msg_id)
    }

    /// Who `openid` is to account `a` now: the generated world plus follows/unfollows since.
    pub fn person(&self, a: &Account, openid: &str) -> Option<Person> {
        let p = self.world.person(a, openid)?;
        let i = match p {
            Person::Follower(i) | Person::Former(i) => i,
        };
        Some(
            match self.lock().follow_overrides.get(&recipient_key(a.index, i)) {
                Some(true) => Person::Follower(i),
                Some(false) => Person::Former(i),
                None => p,
            },
        )
    }

    /// This account's follow overrides, sorted by follower index.
    pub fn overrides(&self, a: &Account) -> Vec<(u32, bool)> {
        let s = self.lock();
        let mut v: Vec<(u32, bool)> = s
            .follow_overrides
            .iter()
            .filter(|(k, _)| (*k >> 32) as u16 == a.index)
            .map(|(k, f)| ((*k & 0xFFFF_FFFF) as u32, *f))
            .collect();
        v.sort_unstable();
        v
    }

    /// A user follows (or unfollows) the account: state changes and the event is pushed.
    /// Returns None if `openid` is not one of the account's (present or former) followers.
    pub fn set_following(&self, a: &Account, openid: &str, follow: bool) -> Option<bool> {
        self.set_following_via(a, openid, follow, None)
    }

    /// [`Sim::set_following`]; a follow `via` a parametric QR code (its scene and ticket) is
    /// pushed with them, as WeChat does.
    pub fn set_following_via(
        &self,
        a: &Account,
        openid: &str,
        follow: bool,
        via: Option<(&str, &str)>,
    ) -> Option<bool> {
        let i = match self.world.person(a, openid)? {
            Person::Follower(i) | Person::Former(i) => i,
        };
        let generated = i < a.followers;
        let now = self.now();
        {
            let mut s = self.lock();
            let key = recipient_key(a.index, i);
            if follow == generated {
                s.follow_overrides.remove(&key);
            } else {
                s.follow_overrides.insert(key, follow);
            }
            // Following opens the short event window; unfollowing closes any window.
            if follow {
                let w = Window::renewed_by(s.windows.get(&key), self.event_window(now));
                s.windows.insert(key, w);
            } else {
                s.windows.remove(&key);
            }
        }
        self.pusher.push(Push {
            target: Target::Account {
                appid: a.appid.clone(),
                user_name: a.user_name.clone(),
                openid: Some(openid.to_string()),
            },
            xml: push::follow_xml(&a.user_name, openid, now, follow, via),
        });
        Some(follow)
    }

    /// A follower triggers an event on the account (`CLICK`, `VIEW`, `SCAN`, `scancode_push`,
    /// `LOCATION`…) and WeChat pushes it. The push-type ones (a click or scan-code menu, a QR
    /// scan) open the short customer-service window; `VIEW` and location reports do not.
    pub fn user_event(&self, a: &Account, openid: &str, event: &str, key: &str) -> Option<()> {
        let index = match self.person(a, openid)? {
            Person::Follower(i) => i,
            Person::Former(_) => return None,
        };
        let now = self.now();
        if matches!(
            event,
            "CLICK" | "SCAN" | "scancode_push" | "scancode_waitmsg"
        ) {
            let mut s = self.lock();
            let k = recipient_key(a.index, index);
            let w = Window::renewed_by(s.windows.get(&k), self.event_window(now));
            s.windows.insert(k, w);
        }
        self.pusher.push(Push {
            target: Target::Account {
                appid: a.appid.clone(),
                user_name: a.user_name.clone(),
                openid: Some(openid.to_string()),
            },
            xml: push::event_xml(&a.user_name, openid, now, event, key),
        });
        Some(())
    }

    /// The delivery outcome WeChat will report for `msgid` (deterministic under the seed).
    pub fn delivery_status(&self, msgid: i64) -> &'static str {
        let h = ids::hash(self.cfg.seed, &[msgid as u64, 0xDE]);
        if ids::unit(h) < self.cfg.delivery_fail_rate {
            if (h >> 3).is_multiple_of(2) {
                "failed:user block"
            } else {
                "failed: system failed"
            }
        } else {
            "success"
        }
    }

    /// Content (`{{key.DATA}}` lines) and example of a private template.
    pub fn template_text(t: &PrivTemplate) -> (String, String) {
        let lib = &LIBRARY[t.lib];
        let mut content = Vec::new();
        let mut example = Vec::new();
        for k in t.keywords.iter().filter_map(|i| lib.keywords.get(*i)) {
            if k.name.is_empty() {
                content.push(format!("{{{{{}.DATA}}}}", k.key()));
                example.push(k.example.to_string());
            } else {
                content.push(format!("{}：{{{{{}.DATA}}}}", k.name, k.key()));
                example.push(format!("{}：{}", k.name, k.example));
            }
        }
        (content.join("\n"), example.join("\n"))
    }

    pub fn lib_template(t: &PrivTemplate) -> &'static templates::LibTemplate {
        &LIBRARY[t.lib]
    }
}
