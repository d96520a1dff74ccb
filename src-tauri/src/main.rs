//! wxdesk: the desktop app's entry point. Embeds the frontend and hands over to the library.
// No console window behind the app on Windows release builds.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

fn main() {
    if let Err(e) = wxdesk_lib::run(tauri::generate_context!()) {
        eprintln!("wxdesk 无法启动：{e}");
        std::process::exit(1);
    }
}
