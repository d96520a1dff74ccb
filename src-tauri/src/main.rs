//! wxdesk: the desktop app's entry point. Embeds the frontend and hands over to the library.
// No console window behind the app on Windows release builds.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

fn main() {
    #[cfg(target_os = "linux")]
    webkit_renderer();
    if let Err(e) = wxdesk_lib::run(tauri::generate_context!()) {
        eprintln!("wxdesk 无法启动：{e}");
        std::process::exit(1);
    }
}

/// WebKitGTK's DMA-BUF renderer costs ~100 MiB in the web process on desks without a GPU driver
/// WebKit trusts (it then composites through Mesa's software GL) and slows the first paint: with
/// it off the idle app holds ~280 MiB instead of ~400 (bench/RESULTS.md, #19). A form-and-table
/// app loses nothing by it. WebKit reads the variable when the first web view is made; a user
/// who set it (to `0`, to keep the renderer) is left alone.
#[cfg(target_os = "linux")]
fn webkit_renderer() {
    const VAR: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";
    if std::env::var_os(VAR).is_none() {
        // SAFETY: the first statement of `main`, before any thread of this process exists (no
        // runtime, no GTK yet), so nothing can read the environment while it changes.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var(VAR, "1");
        }
    }
}
