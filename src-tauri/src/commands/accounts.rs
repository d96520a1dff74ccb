//! 授权账号: the authorization wizard (begin, the embedded `auth` window, the QR code for a
//! phone) and the accounts table's actions.

use serde::{Deserialize, Serialize};
use tauri::{Manager, Runtime};
use wxdesk_core::accounts::AccountCard;
use wxdesk_core::auth::AuthScope;
use wxdesk_core::secrets::Secret;
use wxdesk_core::store::accounts::{AccountKind, AccountStatus};

use crate::error::ShellError;
use crate::state::AppState;

/// Unix seconds for the window: i32 holds them until 2038 and keeps them plain numbers in TS.
fn secs(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// 公众号 or 小程序.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum AccountKindView {
    Oa,
    Mini,
}

/// 已授权 / 已取消授权 / 需要重新授权.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatusView {
    Authorized,
    Unauthorized,
    NeedsReauth,
}

/// One granted permission set (funcscope category).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct PermissionView {
    pub id: i32,
    pub name: String,
}

/// One account as the card and the table show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AccountView {
    pub appid: String,
    pub kind: AccountKindView,
    /// 公众号 / 小程序
    pub kind_label: String,
    pub nickname: String,
    pub head_img: String,
    pub user_name: String,
    pub principal: String,
    /// 订阅号 / 服务号 / 小程序
    pub type_label: String,
    pub verified: bool,
    pub verify_label: String,
    pub permissions: Vec<PermissionView>,
    pub missing_template_permission: bool,
    pub status: AccountStatusView,
    pub status_label: String,
    pub authorized_at: Option<i32>,
    pub updated_at: i32,
    pub has_refresh_token: bool,
}

impl From<AccountCard> for AccountView {
    fn from(c: AccountCard) -> Self {
        AccountView {
            appid: c.appid,
            kind: match c.kind {
                AccountKind::Oa => AccountKindView::Oa,
                AccountKind::Mini => AccountKindView::Mini,
            },
            kind_label: c.kind_label,
            nickname: c.nickname,
            head_img: c.head_img,
            user_name: c.user_name,
            principal: c.principal,
            type_label: c.type_label,
            verified: c.verified,
            verify_label: c.verify_label,
            permissions: c
                .permissions
                .into_iter()
                .map(|p| PermissionView {
                    id: secs(p.id),
                    name: p.name,
                })
                .collect(),
            missing_template_permission: c.missing_template_permission,
            status: match c.status {
                AccountStatus::Authorized => AccountStatusView::Authorized,
                AccountStatus::Unauthorized => AccountStatusView::Unauthorized,
                AccountStatus::NeedsReauth => AccountStatusView::NeedsReauth,
            },
            status_label: c.status_label,
            authorized_at: c.authorized_at.map(secs),
            updated_at: secs(c.updated_at),
            has_refresh_token: c.has_refresh_token,
        }
    }
}

type CmdResult<T> = Result<T, ShellError>;

fn core<T>(r: wxdesk_core::Result<T>) -> crate::Result<T> {
    r.map_err(crate::Error::from)
}

/// Every authorized (or once authorized) account.
#[tauri::command]
#[specta::specta]
pub async fn list_accounts<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<Vec<AccountView>> {
    let state = app.state::<AppState>();
    let list = core(state.ctx.accounts.list().await)?;
    Ok(list.into_iter().map(AccountView::from).collect())
}

/// 刷新信息: api_get_authorizer_info again.
#[tauri::command]
#[specta::specta]
pub async fn refresh_account<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<AccountView> {
    let state = app.state::<AppState>();
    Ok(core(state.ctx.accounts.refresh_info(&appid).await)?.into())
}

/// 移除: forgets the account here (its tokens leave the keychain); WeChat still lists it until
/// the account cancels the authorization.
#[tauri::command]
#[specta::specta]
pub async fn remove_account<R: Runtime>(app: tauri::AppHandle<R>, appid: String) -> CmdResult<()> {
    let state = app.state::<AppState>();
    Ok(core(state.ctx.accounts.remove(&appid).await)?)
}

/// Whether the account's tokens work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct TokenHealthView {
    pub appid: String,
    pub has_refresh_token: bool,
    pub access_token_ok: bool,
    pub detail: String,
    pub hint: Option<String>,
}

/// 令牌检查: refresh token present and an access token obtainable.
#[tauri::command]
#[specta::specta]
pub async fn token_health<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<TokenHealthView> {
    let state = app.state::<AppState>();
    let h = core(state.ctx.accounts.token_health(&appid).await)?;
    Ok(TokenHealthView {
        appid: h.appid,
        has_refresh_token: h.has_refresh_token,
        access_token_ok: h.access_token_ok,
        detail: h.detail,
        hint: h.hint,
    })
}

/// What 恢复刷新令牌 did, per appid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct RecoverReportView {
    pub restored: Vec<String>,
    pub added: Vec<String>,
    pub without_token: Vec<String>,
    pub not_authorized: Vec<String>,
    pub unchanged: i32,
}

/// 恢复刷新令牌: rebuilds lost refresh tokens from api_get_authorizer_list.
#[tauri::command]
#[specta::specta]
pub async fn recover_refresh_tokens<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> CmdResult<RecoverReportView> {
    let state = app.state::<AppState>();
    let r = core(state.ctx.accounts.recover_refresh_tokens().await)?;
    Ok(RecoverReportView {
        restored: r.restored,
        added: r.added,
        without_token: r.without_token,
        not_authorized: r.not_authorized,
        unchanged: i32::try_from(r.unchanged).unwrap_or(i32::MAX),
    })
}

/// What to authorize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum AuthScopeChoice {
    /// 公众号
    Oa,
    /// 小程序
    Mini,
    /// 两者都可
    Both,
}

impl From<AuthScopeChoice> for AuthScope {
    fn from(s: AuthScopeChoice) -> Self {
        match s {
            AuthScopeChoice::Oa => AuthScope::Oa,
            AuthScopeChoice::Mini => AuthScope::Mini,
            AuthScopeChoice::Both => AuthScope::Both,
        }
    }
}

/// One authorization attempt as the wizard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AuthAttempt {
    pub pre_auth_code: String,
    /// Unix seconds; the countdown (a pre_auth_code lives 10 minutes).
    pub expires_at: i32,
    pub launch_url: String,
    pub mobile_url: String,
    pub state: String,
    /// The mobile link as an SVG QR code (发送到手机).
    pub mobile_qr_svg: String,
}

fn qr_svg(text: &str) -> crate::Result<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| crate::Error::Qr(e.to_string()))?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build())
}

/// Gets a pre_auth_code and the links for this attempt. `biz_appid` re-authorizes one account.
#[tauri::command]
#[specta::specta]
pub async fn begin_authorization<R: Runtime>(
    app: tauri::AppHandle<R>,
    scope: AuthScopeChoice,
    biz_appid: Option<String>,
) -> CmdResult<AuthAttempt> {
    let state = app.state::<AppState>();
    let s = core(
        state
            .ctx
            .authorizer
            .begin_authorization(scope.into(), false, biz_appid.as_deref())
            .await,
    )?;
    Ok(AuthAttempt {
        mobile_qr_svg: qr_svg(&s.mobile_url)?,
        pre_auth_code: s.pre_auth_code,
        expires_at: secs(s.expires_at),
        launch_url: s.launch_url,
        mobile_url: s.mobile_url,
        state: s.state,
    })
}

/// 在本机扫码: opens the `auth` window on the relay's launch page and waits until it reaches
/// the relay's /auth/callback (the code is exchanged and the account returned) or the user
/// closes it (`null`).
#[tauri::command]
#[specta::specta]
pub async fn authorize_in_window<R: Runtime>(
    app: tauri::AppHandle<R>,
    launch_url: String,
) -> CmdResult<Option<AccountView>> {
    let state = app.state::<AppState>();
    let settings = core(state.ctx.platform.settings().await)?;
    // The sandbox serves its simulated WeChat login pages from the sim (its api_base).
    let login_base = (settings.mode == wxdesk_core::store::settings::Mode::Sandbox)
        .then_some(settings.api_base.as_str());
    let code =
        crate::auth_window::capture_auth_code(&app, &settings.relay_url, login_base, &launch_url)
            .await?;
    let Some(code) = code else {
        return Ok(None);
    };
    let card = core(
        state
            .ctx
            .authorizer
            .complete_authorization(&Secret::new(code))
            .await,
    )?;
    crate::events::AccountsChanged::authorized(&card.appid).emit_logged(&app);
    Ok(Some(card.into()))
}
