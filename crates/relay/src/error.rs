//! The relay's one error type. Messages name what went wrong, never a secret value: config errors
//! name the key, storage errors carry SQLite's message (which never contains bound values).

use std::path::PathBuf;

/// Everything that can go wrong while configuring, starting or running the relay.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required configuration key has no value from the file or the environment.
    #[error("配置缺少必填项 `{key}`（可写在 TOML 中或设置环境变量 WXDESK_RELAY_{env}）/ missing required config key `{key}`", env = .key.to_uppercase())]
    MissingKey { key: &'static str },

    /// A configuration value is present but unusable.
    #[error("配置项 `{key}` 无效：{reason} / invalid config key `{key}`: {reason}")]
    InvalidKey { key: &'static str, reason: String },

    /// The TOML file could not be read or parsed.
    #[error("无法读取配置文件 {path}：{reason} / cannot read config file")]
    ConfigFile { path: PathBuf, reason: String },

    /// A `*_file` secret could not be read (the path is not secret, the content is).
    #[error("无法读取密钥文件 {path}（配置项 `{key}`）：{reason} / cannot read secret file")]
    SecretFile {
        key: &'static str,
        path: PathBuf,
        reason: String,
    },

    /// The message crypto rejected the configured token/EncodingAESKey.
    #[error("消息加解密配置无效：{0} / invalid message crypto configuration")]
    Crypto(String),

    /// SQLite failed.
    #[error("存储错误：{0} / storage error")]
    Storage(#[from] rusqlite::Error),

    /// The data directory could not be created or opened.
    #[error("无法使用数据目录 {path}：{reason} / cannot use data_dir")]
    DataDir { path: PathBuf, reason: String },

    /// The database was written by a newer relay.
    #[error(
        "数据库版本 {found} 比本程序支持的 {supported} 新，请升级 wxdesk-relay / database is newer than this relay"
    )]
    SchemaTooNew { found: i64, supported: i64 },

    /// The transaction holding this write did not commit, so nothing of it is durable.
    #[error("存储写入失败：{0} / storage write failed")]
    WriteFailed(String),

    /// The storage writer thread is gone (only after shutdown or a fatal storage error).
    #[error("存储写入线程已停止 / storage writer stopped")]
    WriterGone,

    /// PostgreSQL failed (team mode). The server's message and SQLSTATE, never its `detail`
    /// (which can quote row values).
    #[error("团队数据库错误：{} / team database error", pg_message(.0))]
    Postgres(#[from] tokio_postgres::Error),

    /// Something in team mode went wrong; the message says what and what to do.
    #[error("{0}")]
    Team(String),

    /// Binding the listen address or serving failed.
    #[error("网络错误：{0} / network error")]
    Io(#[from] std::io::Error),
}

fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} (SQLSTATE {})", d.message(), d.code().code()),
        None => e.to_string(),
    }
}

/// The relay's result type.
pub type Result<T> = std::result::Result<T, Error>;
