//! A throwaway PostgreSQL cluster for tests, from Debian's `postgresql` package: `initdb` into a
//! temp dir, `postgres` on a free loopback port with a private socket dir, password auth
//! (scram-sha-256) so tests connect the way a deployment does, stopped and removed on drop.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then `initdb` and `pg_ctl` run as the
//! unprivileged `wxdesk-pgtest` user that scripts/setup-system.sh creates (through `runuser`).
//! Anything missing is an error that says to run scripts/setup-system.sh; tests never skip
//! silently.

use std::fmt;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The unprivileged user the cluster runs as when the tests run as root.
pub const TEST_USER: &str = "wxdesk-pgtest";
/// The cluster's superuser (its password is random per cluster).
const SUPERUSER: &str = "wxdesk";

const HOW_TO: &str = "run scripts/setup-system.sh (it installs Debian's postgresql package and \
                      creates the wxdesk-pgtest user)";

/// Why a cluster could not start.
#[derive(Debug)]
pub struct PgError(String);

impl fmt::Display for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PgError {}

fn err(msg: impl Into<String>) -> PgError {
    PgError(msg.into())
}

/// A running cluster; dropped, it is stopped (immediate shutdown: nothing in it matters) and its
/// directory removed.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    run_as: Option<&'static str>,
    port: u16,
    password: String,
    /// Serving TLS with a certificate for 127.0.0.1 from a CA of its own (`ca.pem`).
    tls: bool,
}

impl fmt::Debug for PgCluster {
    // The password stays out of test output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgCluster")
            .field("dir", &self.dir.path())
            .field("port", &self.port)
            .field("run_as", &self.run_as)
            .finish_non_exhaustive()
    }
}

/// The newest `/usr/lib/postgresql/<major>/bin` that has `initdb` and `pg_ctl`
/// (`WXDESK_PG_BIN` overrides).
pub fn find_bin() -> Result<PathBuf, PgError> {
    if let Some(dir) = std::env::var_os("WXDESK_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if dir.join("initdb").is_file() {
            Ok(dir)
        } else {
            Err(err(format!(
                "WXDESK_PG_BIN={} has no initdb",
                dir.display()
            )))
        };
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| err(format!("PostgreSQL is not installed: {HOW_TO}")))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((major, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| err(format!("no PostgreSQL server binaries: {HOW_TO}")))
}

fn is_root() -> bool {
    // `id -u` keeps the crate free of libc for one check per cluster.
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, PgError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| err(format!("no free port: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| err(format!("no free port: {e}")))
}

fn random_password() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Two SipHash states with random keys: enough for a throwaway cluster on loopback.
    (0..2)
        .map(|_| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0),
            );
            format!("{:016x}", h.finish())
        })
        .collect()
}

impl PgCluster {
    /// Initialises and starts a cluster; fails with what to do when PostgreSQL or the test user
    /// is missing.
    pub fn start() -> Result<PgCluster, PgError> {
        Self::start_with(false)
    }

    /// As [`PgCluster::start`], serving TLS too, with a certificate for 127.0.0.1 issued by a
    /// throwaway CA (made with `openssl`); returns the CA certificate's PEM file to trust.
    pub fn start_tls() -> Result<(PgCluster, PathBuf), PgError> {
        let c = Self::start_with(true)?;
        let ca = c.dir.path().join("tls").join("ca.pem");
        Ok((c, ca))
    }

    fn start_with(tls: bool) -> Result<PgCluster, PgError> {
        let bin = find_bin()?;
        let run_as = if is_root() {
            let ok = Command::new("id")
                .arg("-u")
                .arg(TEST_USER)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if !ok {
                return Err(err(format!(
                    "running as root, PostgreSQL needs the unprivileged user {TEST_USER}: {HOW_TO}"
                )));
            }
            Some(TEST_USER)
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("wxdesk-pg-")
            .tempdir()
            .map_err(|e| err(format!("no temp dir: {e}")))?;
        let password = random_password();
        let cluster = PgCluster {
            dir,
            bin,
            run_as,
            port: 0,
            password,
            tls,
        };
        cluster.prepare_dirs()?;
        if tls {
            cluster.make_certificates()?;
        }
        let pwfile = cluster.dir.path().join("pwfile");
        std::fs::write(&pwfile, format!("{}\n", cluster.password))
            .map_err(|e| err(format!("cannot write the password file: {e}")))?;
        cluster.chown(&pwfile)?;
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().to_string_lossy(),
                "-U",
                SUPERUSER,
                "--pwfile",
                &pwfile.to_string_lossy(),
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
        )?;
        let _ = std::fs::remove_file(&pwfile);
        cluster.start_on_a_free_port()
    }

    /// `tls/ca.pem` (CA:TRUE) and `tls/server.pem` + `tls/server.key` (SAN IP:127.0.0.1, the key
    /// 0600 and the cluster user's, as PostgreSQL insists).
    fn make_certificates(&self) -> Result<(), PgError> {
        let dir = self.dir.path().join("tls");
        std::fs::create_dir(&dir).map_err(|e| err(format!("cannot create {dir:?}: {e}")))?;
        let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
        let openssl = |args: &[&str]| -> Result<(), PgError> {
            let out = Command::new("openssl")
                .args(args)
                .output()
                .map_err(|e| err(format!("cannot run openssl ({e}): {HOW_TO}")))?;
            check("openssl", &out)
        };
        let ext = dir.join("server.ext");
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        )
        .map_err(|e| err(format!("cannot write {ext:?}: {e}")))?;
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=wxdesk test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ])?;
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &p("server.key"),
            "-out",
            &p("server.csr"),
            "-subj",
            "/CN=127.0.0.1",
        ])?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            &p("server.csr"),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-out",
            &p("server.pem"),
            "-days",
            "2",
            "-extfile",
            &ext.to_string_lossy(),
        ])?;
        use std::os::unix::fs::PermissionsExt;
        let key = dir.join("server.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| err(format!("chmod {key:?}: {e}")))?;
        self.chown(&dir)?;
        self.chown(&key)?;
        self.chown(&dir.join("server.pem"))
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn sockets(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// The temp dir is ours (0700); the cluster user must reach it.
    fn prepare_dirs(&self) -> Result<(), PgError> {
        std::fs::create_dir(self.sockets())
            .map_err(|e| err(format!("cannot create the socket dir: {e}")))?;
        self.chown(self.dir.path())?;
        self.chown(&self.sockets())
    }

    fn chown(&self, path: &Path) -> Result<(), PgError> {
        let Some(user) = self.run_as else {
            return Ok(());
        };
        let out = Command::new("chown")
            .arg(format!("{user}:"))
            .arg(path)
            .output()
            .map_err(|e| err(format!("chown: {e}")))?;
        check("chown", &out)
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), PgError> {
        let out = self
            .command(tool)
            .args(args)
            .env("LC_ALL", "C")
            .output()
            .map_err(|e| err(format!("cannot run {tool}: {e}: {HOW_TO}")))?;
        check(tool, &out)
    }

    /// `pg_ctl start -w` on a port just found free; another process may take it between the
    /// probe and the bind, so a failed start is tried again on a new port.
    fn start_on_a_free_port(mut self) -> Result<PgCluster, PgError> {
        let mut last = None;
        for _ in 0..5 {
            self.port = free_port()?;
            let mut opts = format!(
                "-p {} -h 127.0.0.1 -k {} -c fsync=on -c max_connections=200",
                self.port,
                self.sockets().display()
            );
            // A diagnostic for benchmarks (e.g. `pg_stat_statements`, to see where the
            // server's time goes); only names of Debian's bundled modules make sense here.
            if let Ok(libs) = std::env::var("WXDESK_PG_PRELOAD")
                && libs
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ',')
            {
                opts.push_str(&format!(" -c shared_preload_libraries={libs}"));
            }
            if self.tls {
                let dir = self.dir.path().join("tls");
                opts.push_str(&format!(
                    " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                    dir.join("server.pem").display(),
                    dir.join("server.key").display()
                ));
            }
            let log = self.dir.path().join("postgres.log");
            match self.run(
                "pg_ctl",
                &[
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    &self.data().to_string_lossy(),
                    "-l",
                    &log.to_string_lossy(),
                    "-o",
                    &opts,
                ],
            ) {
                Ok(()) => return Ok(self),
                Err(e) => {
                    let tail = std::fs::read_to_string(&log).unwrap_or_default();
                    last = Some(err(format!("{e}\n{tail}")));
                }
            }
        }
        Err(last.unwrap_or_else(|| err("PostgreSQL did not start")))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://wxdesk:…@127.0.0.1:PORT/DB` for a database of this cluster (`postgres`
    /// always exists; make others with `CREATE DATABASE`).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let data = self.data();
            let _ = self.run(
                "pg_ctl",
                &["stop", "-m", "immediate", "-D", &data.to_string_lossy()],
            );
        }
    }
}

fn check(tool: &str, out: &Output) -> Result<(), PgError> {
    if out.status.success() {
        return Ok(());
    }
    Err(err(format!(
        "{tool} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim(),
        String::from_utf8_lossy(&out.stdout).trim()
    )))
}
