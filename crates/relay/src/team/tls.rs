//! TLS to PostgreSQL. Every team-mode connection is made through [`connector`]: with the URL's
//! `sslmode=disable` it stays plain, with `prefer` (the default) TLS is used when the server
//! offers it, with `require` it must be. When TLS is used the server's certificate is always
//! verified — against the system's roots and the CA of `database_ca_file`, if given (a private
//! PostgreSQL usually has a certificate from the organisation's own CA) — and its name must match
//! the URL's host. There is no "encrypt but trust anything": that would hand the database
//! password and the team's data to whoever sits between relay and database.
//!
//! SCRAM channel binding is not offered (`ChannelBinding::none`): the certificate check above is
//! what ties the session to the server.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

use crate::error::{Error, Result};

/// The process's connector, set at start from the configuration ([`configure`]); the system's
/// roots alone when nothing configured it (tools and tests that open the database directly).
static CONNECTOR: OnceLock<PgTls> = OnceLock::new();

/// Builds the process's connector: the system's roots plus the PEM certificates of `ca_file`.
/// Called once at start; a second call keeps the first.
pub fn configure(ca_file: Option<&Path>) -> Result<()> {
    let tls = PgTls::new(ca_file)?;
    let _ = CONNECTOR.set(tls);
    Ok(())
}

/// What every team-mode connection is made with.
pub fn connector() -> Result<PgTls> {
    if let Some(tls) = CONNECTOR.get() {
        return Ok(tls.clone());
    }
    let tls = PgTls::new(None)?;
    Ok(CONNECTOR.get_or_init(|| tls).clone())
}

/// Why a connection failed, with its causes (a TLS failure's reason is in its source: an
/// unknown issuer, a name mismatch), and what to do about a certificate.
pub(crate) fn connect_error(e: &tokio_postgres::Error) -> Error {
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why.push_str(": ");
        why.push_str(&s.to_string());
        source = s.source();
    }
    let (zh, en) = if why.to_lowercase().contains("certificate") {
        (
            "（数据库的证书不受信任：用 database_ca_file 指定签发它的 CA）",
            " (the database's certificate is not trusted: name its CA with database_ca_file)",
        )
    } else {
        (
            "（请检查 database_url 与数据库是否在运行）",
            " (check database_url and that the database runs)",
        )
    };
    Error::Team(format!(
        "无法连接 PostgreSQL{zh} / cannot connect to PostgreSQL{en}: {why}"
    ))
}

/// A `MakeTlsConnect` over rustls.
#[derive(Clone)]
pub struct PgTls {
    config: Arc<rustls::ClientConfig>,
}

impl PgTls {
    fn new(ca_file: Option<&Path>) -> Result<PgTls> {
        let mut roots = rustls::RootCertStore::empty();
        // The system's roots: a managed PostgreSQL (a cloud provider's) has a public certificate.
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = ca_file {
            let bad = |why: String| Error::InvalidKey {
                key: "database_ca_file",
                reason: format!(
                    "无法读取 {}：{why} / cannot read the PostgreSQL CA file",
                    path.display()
                ),
            };
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("文件里没有 PEM 证书 / no PEM certificate in it".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| bad(e.to_string()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Team(format!("TLS 设置失败：{e} / TLS setup failed")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(PgTls {
            config: Arc::new(config),
        })
    }
}

impl<S> MakeTlsConnect<S> for PgTls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgTlsStream<S>;
    type TlsConnect = PgTlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<PgTlsConnect> {
        let name = ServerName::try_from(domain.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(PgTlsConnect {
            name,
            connector: tokio_rustls::TlsConnector::from(self.config.clone()),
        })
    }
}

pub struct PgTlsConnect {
    name: ServerName<'static>,
    connector: tokio_rustls::TlsConnector,
}

impl<S> TlsConnect<S> for PgTlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgTlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<PgTlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            self.connector
                .connect(self.name, stream)
                .await
                .map(PgTlsStream)
        })
    }
}

pub struct PgTlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S> tokio_postgres::tls::TlsStream for PgTlsStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for PgTlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for PgTlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
