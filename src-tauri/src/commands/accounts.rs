//! 授权账号: the authorization wizard (begin, the embedded `auth` window, the QR code for a
//! phone) and the accounts table's actions — `ctx.authorizer` and `ctx.accounts`.

use serde::Serialize;
use tauri::Runtime;
use wxdesk_core::accounts::{
    AccountCard, ArchivedPlatform, PurgeReport, RecoverReport, TokenHealth,
};
use wxdesk_core::auth::{AuthScope, AuthorizationStart};
use wxdesk_core::secrets::Secret;

use super::{CmdResult, ctx};

/// Every authorized (or once authorized) account.
#[tauri::command]
#[specta::specta]
pub async fn list_accounts<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<Vec<AccountCard>> {
    Ok(ctx(&app).accounts.list().await?)
}

/// 刷新信息: api_get_authorizer_info again.
#[tauri::command]
#[specta::specta]
pub async fn refresh_account<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<AccountCard> {
    Ok(ctx(&app).accounts.refresh_info(&appid).await?)
}

/// 移除: forgets the account here (its tokens leave the keychain); WeChat still lists it until
/// the account cancels the authorization.
#[tauri::command]
#[specta::specta]
pub async fn remove_account<R: Runtime>(app: tauri::AppHandle<R>, appid: String) -> CmdResult<()> {
    Ok(ctx(&app).accounts.remove(&appid).await?)
}

/// 令牌检查: refresh token present and an access token obtainable.
#[tauri::command]
#[specta::specta]
pub async fn token_health<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<TokenHealth> {
    Ok(ctx(&app).accounts.token_health(&appid).await?)
}

/// 恢复刷新令牌: rebuilds lost refresh tokens from api_get_authorizer_list.
#[tauri::command]
#[specta::specta]
pub async fn recover_refresh_tokens<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> CmdResult<RecoverReport> {
    Ok(ctx(&app).accounts.recover_refresh_tokens().await?)
}

/// The platforms other than the current one with accounts kept here (the sandbox's after a
/// switch to a real platform): 设置 offers to keep or remove them.
#[tauri::command]
#[specta::specta]
pub async fn archived_platforms<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> CmdResult<Vec<ArchivedPlatform>> {
    Ok(ctx(&app).accounts.archived_platforms().await?)
}

/// Removes one archived platform's accounts and their data (jobs and history stay).
#[tauri::command]
#[specta::specta]
pub async fn purge_archived_accounts<R: Runtime>(
    app: tauri::AppHandle<R>,
    component_appid: String,
) -> CmdResult<PurgeReport> {
    Ok(ctx(&app).accounts.purge_archived(&component_appid).await?)
}

/// The appids marked 沙箱 wherever an account shows (jobs and history included).
#[tauri::command]
#[specta::specta]
pub async fn sandbox_appids<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<Vec<String>> {
    Ok(ctx(&app).accounts.sandbox_appids().await?)
}

/// One authorization attempt as the wizard shows it: the core's links, and the mobile link as
/// an SVG QR code (发送到手机) drawn here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AuthAttempt {
    #[serde(flatten)]
    pub start: AuthorizationStart,
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
    scope: AuthScope,
    biz_appid: Option<String>,
) -> CmdResult<AuthAttempt> {
    let ctx = &ctx(&app);
    let start = ctx
        .authorizer
        .begin_authorization(scope, false, biz_appid.as_deref())
        .await?;
    Ok(AuthAttempt {
        mobile_qr_svg: qr_svg(&start.mobile_url)?,
        start,
    })
}

/// 在本机扫码: opens the `auth` window on the relay's launch page and waits until it reaches
/// the relay's /auth/callback of this attempt (the code is exchanged and the account returned)
/// or the user closes it (`null`).
#[tauri::command]
#[specta::specta]
pub async fn authorize_in_window<R: Runtime>(
    app: tauri::AppHandle<R>,
    launch_url: String,
) -> CmdResult<Option<AccountCard>> {
    let ctx = &ctx(&app);
    let pages = ctx.platform.auth_pages(&launch_url).await?;
    let code = crate::auth_window::capture_auth_code(&app, pages).await?;
    let Some(code) = code else {
        return Ok(None);
    };
    let card = ctx
        .authorizer
        .complete_authorization(&Secret::new(code))
        .await?;
    let changed = wxdesk_core::feed::window::AccountsChanged::authorized(&card.appid);
    crate::events::emit_logged(&app, crate::events::AccountsChangedEvent(changed));
    Ok(Some(card))
}
