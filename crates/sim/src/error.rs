//! The crate's one error type.

/// Everything that can stop the simulator from starting or loading its configuration.
/// (API-level failures are not errors of the sim: they are WeChat errcodes in a 200 answer.)
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("无法读取配置文件 {path}: {source} / cannot read config file")]
    ConfigRead {
        path: String,
        source: std::io::Error,
    },
    #[error("配置文件格式错误: {0} / invalid config file")]
    ConfigParse(#[from] toml::de::Error),
    #[error("配置无效: {0} / invalid configuration")]
    ConfigInvalid(String),
    #[error("无法监听 {addr}: {source} / cannot bind")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("推送加密配置无效 / invalid push crypto configuration: {0}")]
    Crypto(String),
    #[error("HTTP 客户端初始化失败 / HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
