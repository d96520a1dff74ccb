//! End-to-end harness: starts sim + relay, the app under tauri-driver, and a WebDriver client.
