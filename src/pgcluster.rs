//! A private PostgreSQL cluster for development, demos and tests (SPEC §9).
//!
//! When `DATABASE_URL` is not set, the service and its tests run their own cluster from the
//! system PostgreSQL server binaries, with no set-up:
//!
//! ```text
//! <base>/pg.lock          flock'd while a process creates, starts or stops the cluster
//! <base>/pg/data          the data directory (initdb'd into data.initdb-tmp, then renamed)
//! <base>/pg/sock          the Unix socket directory (0700); the server has no TCP listener
//! <base>/pg/server.log    the server log
//! ```
//!
//! `initdb` and `postgres` refuse to run as root, so when this process is root the cluster
//! belongs to the `postgres` system user and the binaries run through `runuser` (or `su`).
//! Root can still connect through the 0700 socket directory. Authentication is `trust`: the
//! only way in is the socket, which only the cluster's owner (and root) can reach.
//!
//! A running cluster is reused (by this or any other process), so a second
//! [`PrivateCluster::ensure_running`] costs one connection attempt.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use tokio::process::Command;

/// The port of a new cluster. It only names the socket file (`.s.PGSQL.5432`) inside the
/// private socket directory: there is no TCP listener, so it cannot clash with other servers.
pub const DEFAULT_PORT: u16 = 5432;

/// The cluster's superuser (`initdb -U`).
const SUPERUSER: &str = "postgres";
/// The system user that owns the cluster when this process runs as root.
const OS_USER: &str = "postgres";
/// Time limit for every child process other than `pg_ctl start/stop`.
const CMD_TIMEOUT: Duration = Duration::from_secs(30);
/// `pg_ctl -t`: how long pg_ctl waits for the server to start or stop.
const PG_CTL_WAIT_SECS: u64 = 30;
/// Our own limit on pg_ctl, a little longer than its `-t` so that its message reaches us.
const PG_CTL_TIMEOUT: Duration = Duration::from_secs(PG_CTL_WAIT_SECS + 10);
/// How long to wait for another process that holds the cluster lock (it may be running initdb).
const LOCK_TIMEOUT: Duration = Duration::from_secs(120);
/// Lines of server.log quoted when the server does not start.
const LOG_TAIL_LINES: usize = 20;
/// Longest socket directory we use: `sun_path` holds 107 bytes and the file name adds
/// `/.s.PGSQL.65535.lock` (20 bytes). Longer directories are replaced by one under the
/// system temp dir (see [`socket_dir_for`]).
const MAX_SOCKET_DIR_LEN: usize = 107 - 20;

/// Why the private cluster could not be found, created, started, reached or stopped.
/// Every message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No PostgreSQL server binaries on this machine.
    #[error("{0}")]
    NoBinaries(String),
    /// Running as root, but there is no `postgres` system user to own the cluster.
    #[error("{0}")]
    NoPostgresUser(String),
    /// Running as root, and the `postgres` user cannot reach the cluster's directory.
    #[error("{0}")]
    Unreachable(String),
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// A child process (initdb, pg_ctl, chown, ...) exited unsuccessfully.
    #[error("{what} failed ({status}){output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    /// A child process or lock wait took too long.
    #[error("{what} did not finish within {secs} s")]
    Timeout { what: String, secs: u64 },
    /// The server did not start, or started but does not accept connections.
    #[error(
        "the private PostgreSQL cluster at {data_dir} did not start: {reason}\n\
         --- last lines of {log} ---\n{log_tail}"
    )]
    StartFailed {
        data_dir: String,
        reason: String,
        log: String,
        log_tail: String,
    },
    /// A database operation failed.
    #[error("{context}: {source}")]
    Sql {
        context: String,
        #[source]
        source: sqlx::Error,
    },
    /// Something about the paths or the data directory is unusable as it is.
    #[error("{0}")]
    Invalid(String),
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

// ---------------------------------------------------------------------------------------------
// Finding the binaries
// ---------------------------------------------------------------------------------------------

/// The directory holding the PostgreSQL server binaries (`initdb`, `postgres`, `pg_ctl`):
/// `pg_config --bindir` if it has them; else the directory of `initdb` found on `PATH`; else
/// the highest version under `/usr/lib/postgresql/*/bin`. The error says what to install.
pub fn find_bindir() -> Result<PathBuf, ClusterError> {
    if let Some(dir) = pg_config_bindir()
        && is_server_bindir(&dir)
    {
        return Ok(dir);
    }
    if let Some(initdb) = which("initdb", &[]) {
        // /usr/local/bin/initdb may be a lone symlink: prefer the directory it points into.
        let candidates = [std::fs::canonicalize(&initdb).ok(), Some(initdb.clone())];
        for candidate in candidates.into_iter().flatten() {
            if let Some(dir) = candidate.parent()
                && is_server_bindir(dir)
            {
                return Ok(dir.to_path_buf());
            }
        }
    }
    if let Some(dir) = highest_versioned_bindir(Path::new("/usr/lib/postgresql")) {
        return Ok(dir);
    }
    Err(ClusterError::NoBinaries(
        "PostgreSQL server binaries (initdb, postgres, pg_ctl) not found: looked at \
         `pg_config --bindir`, PATH and /usr/lib/postgresql/*/bin. Install them \
         (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; \
         macOS: `brew install postgresql@15`), or set DATABASE_URL to an existing database."
            .to_owned(),
    ))
}

fn pg_config_bindir() -> Option<PathBuf> {
    let out = std::process::Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let dir = text.trim();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

fn is_server_bindir(dir: &Path) -> bool {
    ["initdb", "postgres", "pg_ctl"]
        .iter()
        .all(|bin| is_executable(&dir.join(bin)))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `name` on PATH, then in `extra` directories.
fn which(name: &str, extra: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// `<root>/<version>/bin` with the highest version (`15` > `9.6`) that holds the server binaries.
fn highest_versioned_bindir(root: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(root).ok()?;
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version: Vec<u32> = name
                .split('.')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            let bin = entry.path().join("bin");
            is_server_bindir(&bin).then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

// ---------------------------------------------------------------------------------------------
// Running child processes, as ourselves or as the postgres user
// ---------------------------------------------------------------------------------------------

/// Who runs initdb and pg_ctl.
#[derive(Clone, Debug)]
enum RunAs {
    /// This process is not root: run the binaries directly.
    CurrentUser,
    /// This process is root: run them as the `postgres` system user (uid given).
    Runuser { runuser: PathBuf, uid: u32 },
    /// Same, through `su` where `runuser` is missing.
    Su { su: PathBuf, uid: u32 },
}

impl RunAs {
    async fn detect() -> Result<RunAs, ClusterError> {
        if effective_uid().await? != 0 {
            return Ok(RunAs::CurrentUser);
        }
        let uid = postgres_uid().await?;
        if let Some(runuser) = which("runuser", &["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
            return Ok(RunAs::Runuser { runuser, uid });
        }
        if let Some(su) = which("su", &["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
            return Ok(RunAs::Su { su, uid });
        }
        Err(ClusterError::NoPostgresUser(format!(
            "running as root, and initdb/postgres refuse to run as root, so the private cluster \
             must run as the `{OS_USER}` user, but neither `runuser` nor `su` was found to switch \
             to it. Install util-linux, run as a non-root user, or set DATABASE_URL to an \
             existing database."
        )))
    }

    /// The uid that owns the cluster's files when we are root.
    fn owner_uid(&self) -> Option<u32> {
        match self {
            RunAs::CurrentUser => None,
            RunAs::Runuser { uid, .. } | RunAs::Su { uid, .. } => Some(*uid),
        }
    }

    /// A command running `program args…` as the cluster's owner.
    fn command(&self, program: &Path, args: &[OsString]) -> Result<Command, ClusterError> {
        let cmd = match self {
            RunAs::CurrentUser => {
                let mut cmd = Command::new(program);
                cmd.args(args);
                cmd
            }
            RunAs::Runuser { runuser, .. } => {
                let mut cmd = Command::new(runuser);
                cmd.args(["-u", OS_USER, "--"]).arg(program).args(args);
                cmd
            }
            RunAs::Su { su, .. } => {
                let mut line = format!("exec {}", sh_quote(os_str(program.as_os_str())?));
                for arg in args {
                    line.push(' ');
                    line.push_str(&sh_quote(os_str(arg)?));
                }
                let mut cmd = Command::new(su);
                cmd.args([OS_USER, "-s", "/bin/sh", "-c"]).arg(line);
                cmd
            }
        };
        Ok(cmd)
    }
}

fn os_str(s: &OsStr) -> Result<&str, ClusterError> {
    s.to_str()
        .ok_or_else(|| ClusterError::Invalid(format!("path is not valid UTF-8: {s:?}")))
}

/// Quotes `s` for /bin/sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The effective uid of this process, from /proc/self/status, else `id -u`.
async fn effective_uid() -> Result<u32, ClusterError> {
    if let Ok(status) = tokio::fs::read_to_string("/proc/self/status").await {
        let euid = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .and_then(|euid| euid.parse().ok());
        if let Some(euid) = euid {
            return Ok(euid);
        }
    }
    let mut cmd = Command::new("id");
    cmd.arg("-u");
    let out = run_checked(cmd, "id -u", CMD_TIMEOUT).await?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| ClusterError::Invalid("`id -u` printed something other than a uid".into()))
}

async fn postgres_uid() -> Result<u32, ClusterError> {
    let mut cmd = Command::new("id");
    cmd.args(["-u", OS_USER]);
    let out = run(cmd, "id -u postgres", CMD_TIMEOUT).await?;
    let uid = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse::<u32>()
        .ok();
    match uid {
        Some(uid) if out.status.success() && uid != 0 => Ok(uid),
        _ => Err(ClusterError::NoPostgresUser(format!(
            "running as root, and initdb/postgres refuse to run as root, so the private \
             PostgreSQL cluster must run as the `{OS_USER}` system user, but there is no such \
             user. Install the PostgreSQL server package, which creates it (Debian/Ubuntu: \
             `apt-get install postgresql`; Fedora: `dnf install postgresql-server`), or create \
             it (`useradd --system --user-group --home-dir /var/lib/postgresql {OS_USER}`), or \
             run as a non-root user, or set DATABASE_URL to an existing database."
        ))),
    }
}

/// Runs `cmd` with no stdin, capturing its output, killed after `timeout`.
async fn run(mut cmd: Command, what: &str, timeout: Duration) -> Result<Output, ClusterError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(io_err(format!("cannot run {what}")))?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(result) => result.map_err(io_err(format!("waiting for {what}"))),
        Err(_) => Err(ClusterError::Timeout {
            what: what.to_owned(),
            secs: timeout.as_secs(),
        }),
    }
}

/// [`run`], and an error (with the output) unless it exits with 0.
async fn run_checked(cmd: Command, what: &str, timeout: Duration) -> Result<Output, ClusterError> {
    let out = run(cmd, what, timeout).await?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(command_failed(what, &out))
    }
}

fn command_failed(what: &str, out: &Output) -> ClusterError {
    let mut output = String::new();
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        let text = text.trim();
        if !text.is_empty() {
            output.push_str(":\n");
            output.push_str(text);
        }
    }
    ClusterError::Command {
        what: what.to_owned(),
        status: out.status.to_string(),
        output,
    }
}

// ---------------------------------------------------------------------------------------------
// The cluster
// ---------------------------------------------------------------------------------------------

/// Which server settings to start a new server with (a running server is reused as it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Profile {
    /// Durability defaults, max_connections=200.
    Durable,
    /// fsync, synchronous_commit and full_page_writes off, max_connections=300: fast, and
    /// safe only for data that may be lost in a crash of the machine (tests).
    Tests,
}

impl Profile {
    fn server_settings(self) -> &'static [&'static str] {
        match self {
            Profile::Durable => &["max_connections=200"],
            Profile::Tests => &[
                "max_connections=300",
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
            ],
        }
    }
}

/// A private PostgreSQL cluster under a base directory, reachable over a Unix socket only.
#[derive(Clone, Debug)]
pub struct PrivateCluster {
    base: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    bindir: PathBuf,
    run_as: RunAs,
}

impl PrivateCluster {
    /// Creates the cluster under `base` (initdb) if missing, starts it if not running, reuses
    /// it if running (postmaster.pid plus a real connection). Idempotent, and safe when several
    /// tasks or processes call it at once (they take turns on an flock'd `base/pg.lock`).
    /// A new server keeps PostgreSQL's durability defaults, with max_connections=200.
    pub async fn ensure_running(base: &Path) -> Result<PrivateCluster, ClusterError> {
        Self::ensure_running_with(base, Profile::Durable).await
    }

    /// [`ensure_running`](Self::ensure_running) for test clusters: a server that this call
    /// starts runs with fsync, synchronous_commit and full_page_writes off and
    /// max_connections=300. A server that is already running is reused as it is.
    pub async fn ensure_running_for_tests(base: &Path) -> Result<PrivateCluster, ClusterError> {
        Self::ensure_running_with(base, Profile::Tests).await
    }

    async fn ensure_running_with(
        base: &Path,
        profile: Profile,
    ) -> Result<PrivateCluster, ClusterError> {
        let bindir = tokio::task::spawn_blocking(find_bindir)
            .await
            .map_err(|e| {
                ClusterError::Invalid(format!("looking for PostgreSQL binaries: {e}"))
            })??;
        tokio::fs::create_dir_all(base)
            .await
            .map_err(io_err(format!("cannot create {}", base.display())))?;
        let base = tokio::fs::canonicalize(base)
            .await
            .map_err(io_err(format!("cannot resolve {}", base.display())))?;
        let run_as = RunAs::detect().await?;
        check_reachable(&run_as, &base).await?;

        let pg_dir = base.join("pg");
        let data_dir = pg_dir.join("data");
        let mut cluster = PrivateCluster {
            socket_dir: socket_dir_for(&pg_dir, &data_dir),
            log_file: pg_dir.join("server.log"),
            data_dir,
            port: DEFAULT_PORT,
            bindir,
            run_as,
            base,
        };

        let _lock = cluster.lock().await?;
        cluster.prepare_dirs().await?;
        cluster.prefer_bindir_of_existing_cluster().await;
        if !cluster.data_dir.join("PG_VERSION").is_file() {
            cluster.initdb(profile).await?;
        }

        let pid_file = cluster.read_pid_file().await?;
        if let Some(pid_file) = &pid_file {
            if let Some(port) = pid_file.port {
                cluster.port = port;
            }
            if cluster.connect("postgres").await.is_ok() {
                tracing::info!(
                    data_dir = %cluster.data_dir.display(),
                    socket_dir = %cluster.socket_dir.display(),
                    port = cluster.port,
                    "reusing private PostgreSQL cluster at {}",
                    cluster.data_dir.display()
                );
                return Ok(cluster);
            }
            // A pid file but no answer: the server may have crashed or the machine rebooted.
            // pg_ctl start copes when that pid is dead, but not when it has been reused by
            // another process (common in containers), so remove the file in that case.
            cluster.remove_stale_pid_file(pid_file).await?;
        }
        cluster.remove_stale_socket_locks().await?;
        cluster.start(profile).await?;
        Ok(cluster)
    }

    /// A sqlx URL for database `db` over the Unix socket:
    /// `postgres:///DB?host=<socket dir>&port=<port>&user=postgres&sslmode=disable`.
    /// (`sslmode=disable` keeps a `PGSSLMODE` in the environment from breaking it: there is
    /// no TLS on a Unix socket.)
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres:///{}?host={}&port={}&user={SUPERUSER}&sslmode=disable",
            percent_encode(db),
            percent_encode(&self.socket_dir.to_string_lossy()),
            self.port
        )
    }

    /// The same as [`url`](Self::url), as connect options.
    pub fn connect_options(&self, db: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.socket_dir)
            .port(self.port)
            .username(SUPERUSER)
            .database(db)
            .ssl_mode(PgSslMode::Disable)
    }

    /// Creates database `db` unless it exists.
    pub async fn ensure_database(&self, db: &str) -> Result<(), ClusterError> {
        let mut conn = self.connect("postgres").await?;
        let result = create_database_if_missing(&mut conn, db).await;
        let _ = conn.close().await;
        result
    }

    /// Stops the server (`pg_ctl -m fast stop`). Does nothing if it is not running.
    pub async fn stop(&self) -> Result<(), ClusterError> {
        let _lock = self.lock().await?;
        if !self.data_dir.join("postmaster.pid").exists() {
            return Ok(());
        }
        tracing::info!(
            "stopping private PostgreSQL cluster at {}",
            self.data_dir.display()
        );
        let args = [
            OsString::from("-D"),
            self.data_dir.clone().into_os_string(),
            "-m".into(),
            "fast".into(),
            "-w".into(),
            "-t".into(),
            PG_CTL_WAIT_SECS.to_string().into(),
            "stop".into(),
        ];
        let cmd = self.pg_command("pg_ctl", &args)?;
        let out = run(cmd, "pg_ctl stop", PG_CTL_TIMEOUT).await?;
        if out.status.success() || !self.data_dir.join("postmaster.pid").exists() {
            Ok(())
        } else {
            Err(command_failed("pg_ctl stop", &out))
        }
    }

    /// A streaming replica of this cluster under `base`: `pg_basebackup -R` into
    /// `base/pg/data`, started as a hot standby on a socket of its own (with the test
    /// profile's settings). Reuses a replica already made there.
    pub async fn start_replica(&self, base: &Path) -> Result<PrivateCluster, ClusterError> {
        tokio::fs::create_dir_all(base)
            .await
            .map_err(io_err(format!("cannot create {}", base.display())))?;
        let base = tokio::fs::canonicalize(base)
            .await
            .map_err(io_err(format!("cannot resolve {}", base.display())))?;
        let pg_dir = base.join("pg");
        let data_dir = pg_dir.join("data");
        if !data_dir.join("PG_VERSION").is_file() {
            let replica = PrivateCluster {
                socket_dir: socket_dir_for(&pg_dir, &data_dir),
                log_file: pg_dir.join("server.log"),
                data_dir: data_dir.clone(),
                port: DEFAULT_PORT,
                bindir: self.bindir.clone(),
                run_as: self.run_as.clone(),
                base: base.clone(),
            };
            replica.prepare_dirs().await?;
            let args: Vec<OsString> = vec![
                "-D".into(),
                data_dir.clone().into_os_string(),
                "-R".into(),
                "-X".into(),
                "stream".into(),
                "-c".into(),
                "fast".into(),
                "-h".into(),
                self.socket_dir.clone().into_os_string(),
                "-p".into(),
                self.port.to_string().into(),
                "-U".into(),
                SUPERUSER.into(),
            ];
            let cmd = self.pg_command("pg_basebackup", &args)?;
            run_checked(cmd, "pg_basebackup", CMD_TIMEOUT).await?;
        }
        Self::ensure_running_for_tests(&base).await
    }

    /// The base directory (absolute).
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The data directory (absolute).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The Unix socket directory (absolute).
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The server log.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// The port, which names the socket file `.s.PGSQL.<port>`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the PostgreSQL binaries are.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    // ---- internals --------------------------------------------------------------------------

    async fn connect(&self, db: &str) -> Result<PgConnection, ClusterError> {
        let options = self.connect_options(db);
        let attempt = PgConnection::connect_with(&options);
        match tokio::time::timeout(Duration::from_secs(10), attempt).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(source)) => Err(ClusterError::Sql {
                context: format!(
                    "cannot connect to database {db} of the private PostgreSQL cluster at {}",
                    self.data_dir.display()
                ),
                source,
            }),
            Err(_) => Err(ClusterError::Timeout {
                what: format!("connecting to {}", self.socket_dir.display()),
                secs: 10,
            }),
        }
    }

    /// Waits for the cluster lock (`base/pg.lock`), polling so as not to block the runtime.
    async fn lock(&self) -> Result<std::fs::File, ClusterError> {
        let path = self.base.join("pg.lock");
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .await
            .map_err(io_err(format!("cannot open {}", path.display())))?
            .into_std()
            .await;
        let started = Instant::now();
        let mut said = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if started.elapsed() > LOCK_TIMEOUT {
                        return Err(ClusterError::Timeout {
                            what: format!("waiting for the lock {}", path.display()),
                            secs: LOCK_TIMEOUT.as_secs(),
                        });
                    }
                    if !said && started.elapsed() > Duration::from_secs(2) {
                        tracing::info!("waiting for another process holding {}", path.display());
                        said = true;
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(io_err(format!("cannot lock {}", path.display()))(e));
                }
            }
        }
    }

    /// Creates `pg/` and the socket dir (0700), owned by the postgres user when we are root.
    async fn prepare_dirs(&self) -> Result<(), ClusterError> {
        let pg_dir = self.pg_dir();
        for dir in [&pg_dir, &self.socket_dir] {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(io_err(format!("cannot create {}", dir.display())))?;
            tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .await
                .map_err(io_err(format!("cannot chmod 700 {}", dir.display())))?;
        }
        let Some(uid) = self.run_as.owner_uid() else {
            return Ok(());
        };
        for dir in [&pg_dir, &self.socket_dir] {
            let mut wrong = vec![dir.clone()];
            if *dir == pg_dir {
                wrong.push(self.data_dir.clone());
                wrong.push(self.log_file.clone());
            }
            let mut needs_chown = false;
            for path in wrong {
                if let Ok(meta) = tokio::fs::metadata(&path).await {
                    needs_chown |= meta.uid() != uid;
                }
            }
            if needs_chown {
                let mut cmd = Command::new("chown");
                cmd.args(["-R", &format!("{OS_USER}:")]).arg(dir);
                run_checked(
                    cmd,
                    &format!("chown -R {OS_USER}: {}", dir.display()),
                    CMD_TIMEOUT,
                )
                .await?;
            }
        }
        Ok(())
    }

    /// initdb into `data.initdb-tmp`, then rename it to `data`, so that `data` exists only
    /// once complete (an interrupted initdb leaves nothing half-made behind).
    async fn initdb(&self, profile: Profile) -> Result<(), ClusterError> {
        if self.data_dir.exists() {
            let empty = std::fs::read_dir(&self.data_dir)
                .map(|mut entries| entries.next().is_none())
                .unwrap_or(false);
            if !empty {
                return Err(ClusterError::Invalid(format!(
                    "{} exists but is not a PostgreSQL data directory (no PG_VERSION); \
                     move it away or delete it",
                    self.data_dir.display()
                )));
            }
            tokio::fs::remove_dir(&self.data_dir)
                .await
                .map_err(io_err(format!("cannot remove {}", self.data_dir.display())))?;
        }
        let tmp = self.pg_dir().join("data.initdb-tmp");
        tracing::info!(
            bindir = %self.bindir.display(),
            "creating private PostgreSQL cluster at {} (initdb)",
            self.data_dir.display()
        );
        for locale in ["C.UTF-8", "C"] {
            if tmp.exists() {
                tokio::fs::remove_dir_all(&tmp)
                    .await
                    .map_err(io_err(format!("cannot remove {}", tmp.display())))?;
            }
            let mut args: Vec<OsString> = vec![
                "-D".into(),
                tmp.clone().into_os_string(),
                "-U".into(),
                SUPERUSER.into(),
                "--auth=trust".into(),
                "-E".into(),
                "UTF8".into(),
                format!("--locale={locale}").into(),
            ];
            if profile == Profile::Tests {
                // Skip the final fsync of the new cluster (about 10x faster). Only for tests:
                // a crash of the machine right after initdb could corrupt the cluster.
                args.push("-N".into());
            }
            let cmd = self.pg_command("initdb", &args)?;
            let out = run(cmd, "initdb", CMD_TIMEOUT).await?;
            if out.status.success() {
                break;
            }
            let stderr = String::from_utf8_lossy(&out.stderr);
            if locale != "C" && stderr.contains("locale") {
                tracing::info!("locale {locale} is unavailable; running initdb with --locale=C");
                continue;
            }
            return Err(command_failed("initdb", &out));
        }
        tokio::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o700))
            .await
            .map_err(io_err(format!("cannot chmod 700 {}", tmp.display())))?;
        tokio::fs::rename(&tmp, &self.data_dir)
            .await
            .map_err(io_err(format!("cannot rename {} to data", tmp.display())))?;
        Ok(())
    }

    /// Starts the server and checks that it accepts connections.
    async fn start(&self, profile: Profile) -> Result<(), ClusterError> {
        tracing::info!(
            data_dir = %self.data_dir.display(),
            socket_dir = %self.socket_dir.display(),
            port = self.port,
            ?profile,
            "starting private PostgreSQL cluster at {}",
            self.data_dir.display()
        );
        let socket_dir = os_str(self.socket_dir.as_os_str())?;
        // pg_ctl hands -o to /bin/sh, hence the quoting.
        let mut server_options = format!(
            "-c listen_addresses='' -k {} -p {} -c unix_socket_permissions=0700",
            sh_quote(socket_dir),
            self.port
        );
        for setting in profile.server_settings() {
            server_options.push_str(" -c ");
            server_options.push_str(setting);
        }
        let args = [
            OsString::from("-D"),
            self.data_dir.clone().into_os_string(),
            "-l".into(),
            self.log_file.clone().into_os_string(),
            "-w".into(),
            "-t".into(),
            PG_CTL_WAIT_SECS.to_string().into(),
            "-o".into(),
            server_options.into(),
            "start".into(),
        ];
        let cmd = self.pg_command("pg_ctl", &args)?;
        let out = match run(cmd, "pg_ctl start", PG_CTL_TIMEOUT).await {
            Ok(out) => out,
            Err(e) => return Err(self.start_failed(e.to_string()).await),
        };
        if !out.status.success() {
            // Perhaps another server (started outside our lock) got there first.
            if self
                .wait_for_connection(Duration::from_secs(3))
                .await
                .is_ok()
            {
                return Ok(());
            }
            return Err(self
                .start_failed(command_failed("pg_ctl start", &out).to_string())
                .await);
        }
        if let Err(e) = self.wait_for_connection(Duration::from_secs(10)).await {
            return Err(self
                .start_failed(format!(
                    "the server started but does not accept connections: {e}"
                ))
                .await);
        }
        Ok(())
    }

    async fn wait_for_connection(&self, patience: Duration) -> Result<(), ClusterError> {
        let started = Instant::now();
        loop {
            match self.connect("postgres").await {
                Ok(conn) => {
                    let _ = conn.close().await;
                    return Ok(());
                }
                Err(e) if started.elapsed() >= patience => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    async fn start_failed(&self, reason: String) -> ClusterError {
        ClusterError::StartFailed {
            data_dir: self.data_dir.display().to_string(),
            reason,
            log: self.log_file.display().to_string(),
            log_tail: log_tail(&self.log_file, LOG_TAIL_LINES).await,
        }
    }

    async fn read_pid_file(&self) -> Result<Option<PidFile>, ClusterError> {
        let path = self.data_dir.join("postmaster.pid");
        match tokio::fs::read_to_string(&path).await {
            Ok(text) => Ok(Some(PidFile::parse(path, &text))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(format!("cannot read {}", path.display()))(e)),
        }
    }

    /// Removes postmaster.pid if the process it names is certainly not this cluster's
    /// postmaster (dead, a zombie, or another process that reused the pid).
    async fn remove_stale_pid_file(&self, pid_file: &PidFile) -> Result<(), ClusterError> {
        let Some(pid) = pid_file.pid else {
            return Ok(());
        };
        match process_state(pid, &self.data_dir).await {
            ProcessState::Postmaster | ProcessState::Unknown => Ok(()),
            state @ (ProcessState::Gone | ProcessState::Other) => {
                tracing::info!(
                    pid,
                    ?state,
                    "removing stale {} (the server is not running)",
                    pid_file.path.display()
                );
                remove_file_if_exists(&pid_file.path).await
            }
        }
    }

    /// Removes `.s.PGSQL.*.lock` files (and their sockets) in the socket dir whose pid is
    /// certainly not a postmaster of this cluster. Called only when no postmaster runs.
    async fn remove_stale_socket_locks(&self) -> Result<(), ClusterError> {
        let Ok(mut entries) = tokio::fs::read_dir(&self.socket_dir).await else {
            return Ok(());
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.starts_with(".s.PGSQL.") && name.ends_with(".lock")) {
                continue;
            }
            let lock_path = entry.path();
            let Ok(text) = tokio::fs::read_to_string(&lock_path).await else {
                continue;
            };
            let pid = text
                .lines()
                .next()
                .and_then(|l| l.trim().parse::<i64>().ok());
            let Some(pid) = pid
                .map(i64::unsigned_abs)
                .and_then(|p| u32::try_from(p).ok())
            else {
                continue;
            };
            if matches!(
                process_state(pid, &self.data_dir).await,
                ProcessState::Gone | ProcessState::Other
            ) {
                tracing::info!(pid, "removing stale {}", lock_path.display());
                remove_file_if_exists(&lock_path).await?;
                if let Some(socket) = name.strip_suffix(".lock") {
                    remove_file_if_exists(&self.socket_dir.join(socket)).await?;
                }
            }
        }
        Ok(())
    }

    /// An existing cluster needs the binaries of its major version: on Debian, several may
    /// be installed side by side, and the newest (chosen by [`find_bindir`]) cannot start a
    /// cluster made by an older one.
    async fn prefer_bindir_of_existing_cluster(&mut self) {
        let Ok(version) = tokio::fs::read_to_string(self.data_dir.join("PG_VERSION")).await else {
            return;
        };
        let version = version.trim();
        if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return;
        }
        let debian = PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"));
        if debian != self.bindir && is_server_bindir(&debian) {
            tracing::info!(
                "using {} for the existing PostgreSQL {version} cluster",
                debian.display()
            );
            self.bindir = debian;
        }
    }

    fn pg_dir(&self) -> PathBuf {
        self.base.join("pg")
    }

    fn pg_command(&self, bin: &str, args: &[OsString]) -> Result<Command, ClusterError> {
        let mut cmd = self.run_as.command(&self.bindir.join(bin), args)?;
        // The postgres user may not be able to enter our working directory.
        cmd.current_dir(self.pg_dir());
        // initdb and pg_ctl read these; the command line says everything they need.
        for var in ["PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGOPTIONS"] {
            cmd.env_remove(var);
        }
        Ok(cmd)
    }
}

/// CREATE DATABASE `db` unless it exists; a concurrent creation by someone else is fine.
pub async fn create_database_if_missing(
    conn: &mut PgConnection,
    db: &str,
) -> Result<(), ClusterError> {
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(db)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|source| ClusterError::Sql {
            context: format!("cannot look up database {db}"),
            source,
        })?;
    if exists.is_some() {
        return Ok(());
    }
    let sql = format!("CREATE DATABASE {}", quote_ident(db));
    match sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
    {
        Ok(_) => Ok(()),
        // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on the catalog index.
        Err(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) =>
        {
            Ok(())
        }
        Err(source) => Err(ClusterError::Sql {
            context: format!("cannot create database {db}"),
            source,
        }),
    }
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Percent-encodes everything but unreserved characters and `/` (for URL paths and queries).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `pg/sock`, unless that is too long for a Unix socket path; then a directory under the
/// system temp dir named after the data directory.
fn socket_dir_for(pg_dir: &Path, data_dir: &Path) -> PathBuf {
    let preferred = pg_dir.join("sock");
    if preferred.as_os_str().len() <= MAX_SOCKET_DIR_LEN {
        return preferred;
    }
    let hash = fnv1a64(data_dir.as_os_str().as_encoded_bytes());
    std::env::temp_dir().join(format!("cdc-pg-{:012x}", hash & 0xffff_ffff_ffff))
}

/// FNV-1a, 64 bits: a stable hash for naming things.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

async fn remove_file_if_exists(path: &Path) -> Result<(), ClusterError> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(format!("cannot remove {}", path.display()))(e)),
    }
}

/// The last `lines` lines of `path`, or a note saying why there are none.
async fn log_tail(path: &Path, lines: usize) -> String {
    match tokio::fs::read(path).await {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// When root: checks that the postgres user can reach `base` (every directory on the way
/// must be searchable), and explains which directory blocks it otherwise.
async fn check_reachable(run_as: &RunAs, base: &Path) -> Result<(), ClusterError> {
    if run_as.owner_uid().is_none() || can_enter(run_as, base).await? {
        return Ok(());
    }
    let mut ancestors: Vec<&Path> = base.ancestors().collect();
    ancestors.reverse();
    let mut blocker = base;
    for dir in ancestors {
        if !can_enter(run_as, dir).await? {
            blocker = dir;
            break;
        }
    }
    let detail = match std::fs::metadata(blocker) {
        Ok(meta) => format!(
            " (mode {:o}, owner uid {})",
            meta.permissions().mode() & 0o7777,
            meta.uid()
        ),
        Err(_) => String::new(),
    };
    Err(ClusterError::Unreachable(format!(
        "this process runs as root, and initdb/postgres refuse to run as root, so the private \
         PostgreSQL cluster under {base} runs as the `{OS_USER}` system user; but that user cannot \
         enter {blocker}{detail}. Either make every directory on the way searchable \
         (e.g. `chmod o+x {blocker}`), or set CDC_DATA_DIR to a directory the `{OS_USER}` user can \
         reach (e.g. under /var/tmp or /srv), or set DATABASE_URL to an existing database.",
        base = base.display(),
        blocker = blocker.display(),
    )))
}

async fn can_enter(run_as: &RunAs, dir: &Path) -> Result<bool, ClusterError> {
    let args = [OsString::from("-x"), dir.as_os_str().to_owned()];
    let cmd = run_as.command(Path::new("test"), &args)?;
    let out = run(cmd, "test -x (as the postgres user)", CMD_TIMEOUT).await?;
    Ok(out.status.success())
}

/// The parts of postmaster.pid we use (line 1: pid, line 4: port).
#[derive(Debug)]
struct PidFile {
    path: PathBuf,
    pid: Option<u32>,
    port: Option<u16>,
}

impl PidFile {
    fn parse(path: PathBuf, text: &str) -> PidFile {
        let mut lines = text.lines();
        let pid = lines
            .next()
            .and_then(|l| l.trim().parse::<i64>().ok())
            .map(i64::unsigned_abs) // a standalone backend writes -pid
            .and_then(|p| u32::try_from(p).ok());
        let port = lines.nth(2).and_then(|l| l.trim().parse().ok());
        PidFile { path, pid, port }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum ProcessState {
    /// No such process (or a zombie).
    Gone,
    /// A live process whose working directory (or command line) is this data directory.
    Postmaster,
    /// A live process that is certainly something else (the pid was reused).
    Other,
    /// Cannot tell (no /proc, or not allowed to look): assume it may be the postmaster.
    Unknown,
}

/// Whether `pid` is the postmaster of `data_dir`, from /proc. A postmaster's working directory
/// is its data directory, and pg_ctl puts `-D <data_dir>` on its command line.
async fn process_state(pid: u32, data_dir: &Path) -> ProcessState {
    if tokio::fs::metadata("/proc/self").await.is_err() {
        return ProcessState::Unknown;
    }
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let stat = match tokio::fs::read_to_string(proc_dir.join("stat")).await {
        Ok(stat) => stat,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return ProcessState::Gone,
        Err(_) => return ProcessState::Unknown,
    };
    // "pid (comm) S ...": the state follows the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    if matches!(state, Some("Z") | Some("X") | Some("x")) {
        return ProcessState::Gone;
    }
    if let Ok(cwd) = tokio::fs::read_link(proc_dir.join("cwd")).await {
        return if cwd == data_dir {
            ProcessState::Postmaster
        } else {
            ProcessState::Other
        };
    }
    match tokio::fs::read(proc_dir.join("cmdline")).await {
        Ok(cmdline) if cmdline.is_empty() => ProcessState::Other, // kernel thread
        Ok(cmdline) => {
            let text = String::from_utf8_lossy(&cmdline);
            if text.contains(&*data_dir.to_string_lossy()) {
                ProcessState::Postmaster
            } else if text.contains("postgres") || text.contains("postmaster") {
                ProcessState::Unknown
            } else {
                ProcessState::Other
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => ProcessState::Gone,
        Err(_) => ProcessState::Unknown,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use sqlx::postgres::PgPoolOptions;

    /// A fresh directory under /tmp, removed (after an immediate stop of any server in it)
    /// when dropped, even if the test fails.
    struct TempBase(PathBuf);

    impl TempBase {
        fn new(name: &str) -> TempBase {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let dir = PathBuf::from(format!("/tmp/pgc-{name}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempBase(dir)
        }
    }

    impl Drop for TempBase {
        fn drop(&mut self) {
            let data = self.0.join("pg/data");
            if data.join("postmaster.pid").exists()
                && let Ok(bindir) = find_bindir()
            {
                let pg_ctl = bindir.join("pg_ctl");
                let as_root = std::fs::read_to_string("/proc/self/status")
                    .map(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")))
                    .unwrap_or(false);
                let mut cmd = if as_root {
                    let mut cmd = std::process::Command::new("runuser");
                    cmd.args(["-u", "postgres", "--"]).arg(pg_ctl);
                    cmd
                } else {
                    std::process::Command::new(pg_ctl)
                };
                let _ = cmd
                    .arg("-D")
                    .arg(&data)
                    .args(["-m", "immediate", "-w", "stop"])
                    .current_dir("/")
                    .output();
            }
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn is_root() -> bool {
        std::fs::read_to_string("/proc/self/status")
            .map(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")))
            .unwrap_or(false)
    }

    /// A `sleep` running as the user who owns test clusters, and its pid.
    fn spawn_sleeper_as_cluster_owner() -> (std::process::Child, u32) {
        if !is_root() {
            let child = std::process::Command::new("sleep")
                .arg("60")
                .spawn()
                .unwrap();
            let pid = child.id();
            return (child, pid);
        }
        let mut child = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--", "sleep", "60"])
            .spawn()
            .unwrap();
        // runuser stays as the parent: find its child.
        let children = format!("/proc/{0}/task/{0}/children", child.id());
        for _ in 0..100 {
            let text = std::fs::read_to_string(&children).unwrap_or_default();
            if let Some(pid) = text.split_whitespace().next() {
                return (child, pid.parse().unwrap());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("runuser started no child");
    }

    #[test]
    fn finds_binaries() {
        let dir = find_bindir().unwrap();
        assert!(dir.join("initdb").is_file(), "{}", dir.display());
        assert!(dir.join("postgres").is_file(), "{}", dir.display());
    }

    #[test]
    fn picks_highest_complete_versioned_bindir() {
        let tmp = TempBase::new("versions");
        for (version, bins) in [
            ("9.6", &["initdb", "postgres", "pg_ctl"][..]),
            ("15", &["initdb", "postgres", "pg_ctl"][..]),
            ("16", &["initdb", "pg_ctl"][..]), // client-only: no server binary
            ("x", &["initdb", "postgres", "pg_ctl"][..]),
        ] {
            let bin = tmp.0.join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            for name in bins {
                std::fs::write(bin.join(name), "#!/bin/sh\n").unwrap();
                std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755))
                    .unwrap();
            }
        }
        assert_eq!(highest_versioned_bindir(&tmp.0), Some(tmp.0.join("15/bin")));
    }

    #[tokio::test]
    async fn runuser_and_su_run_as_postgres() {
        if !is_root() {
            eprintln!("skipped: not running as root");
            return;
        }
        let uid = postgres_uid().await.unwrap();
        let runners = [
            RunAs::Runuser {
                runuser: which("runuser", &["/usr/sbin", "/sbin"]).unwrap(),
                uid,
            },
            RunAs::Su {
                su: which("su", &["/usr/bin", "/bin"]).unwrap(),
                uid,
            },
        ];
        for run_as in runners {
            let args = [OsString::from("-u")];
            let cmd = run_as.command(Path::new("id"), &args).unwrap();
            let out = run_checked(cmd, "id -u", CMD_TIMEOUT).await.unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                uid.to_string(),
                "{run_as:?}"
            );
            let args = [OsString::from("-x"), OsString::from("/tmp/it's here")];
            let cmd = run_as.command(Path::new("test"), &args).unwrap();
            assert!(
                !run(cmd, "test", CMD_TIMEOUT)
                    .await
                    .unwrap()
                    .status
                    .success()
            );
            assert!(can_enter(&run_as, Path::new("/tmp")).await.unwrap());
        }
    }

    #[test]
    fn url_encodes_socket_dir() {
        let cluster = PrivateCluster {
            base: "/b".into(),
            data_dir: "/b/pg/data".into(),
            socket_dir: "/b c/+&x/pg/sock".into(),
            log_file: "/b/pg/server.log".into(),
            port: 5432,
            bindir: "/usr/bin".into(),
            run_as: RunAs::CurrentUser,
        };
        let url = cluster.url("my db");
        assert_eq!(
            url,
            "postgres:///my%20db?host=/b%20c/%2B%26x/pg/sock&port=5432&user=postgres&sslmode=disable"
        );
        let options: PgConnectOptions = url.parse().unwrap();
        assert_eq!(
            options.get_socket(),
            Some(&PathBuf::from("/b c/+&x/pg/sock"))
        );
        assert_eq!(options.get_database(), Some("my db"));
        assert_eq!(options.get_username(), "postgres");
    }

    #[test]
    fn long_socket_dirs_move_to_tmp() {
        let long = PathBuf::from(format!("/tmp/{}/pg", "x".repeat(100)));
        let dir = socket_dir_for(&long, &long.join("data"));
        assert!(dir.starts_with(std::env::temp_dir()), "{}", dir.display());
        assert_eq!(dir, socket_dir_for(&long, &long.join("data")));
        let short = PathBuf::from("/tmp/x/pg");
        assert_eq!(
            socket_dir_for(&short, &short.join("data")),
            short.join("sock")
        );
    }

    #[test]
    fn parses_pid_file() {
        let pid_file = PidFile::parse(
            "/x".into(),
            "1234\n/d\n1700000000\n5433\n/s\n\n  5432001 0\nready   \n",
        );
        assert_eq!(pid_file.pid, Some(1234));
        assert_eq!(pid_file.port, Some(5433));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lifecycle() {
        // A space and a quote in the path: quoting for pg_ctl -o and encoding in url().
        let tmp = TempBase::new("life it's");
        let base = tmp.0.join("base");

        let t = Instant::now();
        let cluster = PrivateCluster::ensure_running_for_tests(&base)
            .await
            .unwrap();
        let first = t.elapsed();
        assert!(cluster.data_dir().join("PG_VERSION").is_file());
        assert!(cluster.data_dir().is_absolute());
        assert!(
            !cluster
                .data_dir()
                .with_file_name("data.initdb-tmp")
                .exists()
        );

        let t = Instant::now();
        let again = PrivateCluster::ensure_running_for_tests(&base)
            .await
            .unwrap();
        let reuse = t.elapsed();
        assert_eq!(again.url("x"), cluster.url("x"));
        assert!(reuse < Duration::from_secs(1), "reuse took {reuse:?}");

        cluster.ensure_database("app").await.unwrap();
        cluster.ensure_database("app").await.unwrap(); // idempotent

        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&cluster.url("app"))
            .await
            .unwrap();
        let one: i32 = sqlx::query_scalar("select 1")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(one, 1);
        sqlx::raw_sql("create table t (id int primary key, v text); insert into t values (1, 'x')")
            .execute(&pool)
            .await
            .unwrap();
        // No TCP listener, and the test settings are in force.
        let listen: String = sqlx::query_scalar("show listen_addresses")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(listen, "");
        let fsync: String = sqlx::query_scalar("show fsync")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(fsync, "off");
        pool.close().await;

        let mut conn = PgConnection::connect(&cluster.url("postgres"))
            .await
            .unwrap();
        let mut clones = Vec::new();
        for i in 0..5 {
            let t = Instant::now();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "create database x{i} template app"
            )))
            .execute(&mut conn)
            .await
            .unwrap();
            clones.push(t.elapsed());
        }
        conn.close().await.unwrap();
        let mut copy = PgConnection::connect(&cluster.url("x0")).await.unwrap();
        let v: String = sqlx::query_scalar("select v from t")
            .fetch_one(&mut copy)
            .await
            .unwrap();
        assert_eq!(v, "x");
        copy.close().await.unwrap();

        let t = Instant::now();
        cluster.stop().await.unwrap();
        let stop = t.elapsed();
        assert!(!cluster.data_dir().join("postmaster.pid").exists());
        assert!(
            PgConnection::connect(&cluster.url("postgres"))
                .await
                .is_err()
        );
        cluster.stop().await.unwrap(); // idempotent

        // Restart of an existing cluster (no initdb).
        let t = Instant::now();
        let restarted = PrivateCluster::ensure_running(&base).await.unwrap();
        let restart = t.elapsed();
        let mut conn = PgConnection::connect(&restarted.url("x1")).await.unwrap();
        let v: String = sqlx::query_scalar("select v from t")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(v, "x");
        let max: String = sqlx::query_scalar("show max_connections")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(max, "200");
        conn.close().await.unwrap();
        restarted.stop().await.unwrap();

        eprintln!(
            "TIMING first ensure_running (initdb+start): {first:?}; reuse: {reuse:?}; \
             CREATE DATABASE .. TEMPLATE: {clones:?}; stop: {stop:?}; restart (durable): {restart:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_ensure_running() {
        let tmp = TempBase::new("conc");
        let base = tmp.0.join("base");
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let base = base.clone();
                tokio::spawn(async move { PrivateCluster::ensure_running_for_tests(&base).await })
            })
            .collect();
        let mut clusters = Vec::new();
        for task in tasks {
            clusters.push(task.await.unwrap().unwrap());
        }
        for cluster in &clusters {
            assert_eq!(cluster.url("postgres"), clusters[0].url("postgres"));
            let mut conn = PgConnection::connect(&cluster.url("postgres"))
                .await
                .unwrap();
            let one: i32 = sqlx::query_scalar("select 1")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(one, 1);
            conn.close().await.unwrap();
        }
        // Concurrent ensure_database of the same name.
        let a = clusters[0].clone();
        let b = clusters[1].clone();
        let (ra, rb) = tokio::join!(a.ensure_database("same"), b.ensure_database("same"));
        ra.unwrap();
        rb.unwrap();
        clusters[0].stop().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stale_pid_file_of_a_reused_pid() {
        let tmp = TempBase::new("stale");
        let base = tmp.0.join("base");
        let cluster = PrivateCluster::ensure_running_for_tests(&base)
            .await
            .unwrap();
        cluster.stop().await.unwrap();
        // As after a crash and reboot: a pid file naming a live, unrelated process of the
        // cluster's owner, which `pg_ctl start` alone refuses ("lock file already exists").
        // (A pid of another user's process is fine for postgres: kill(pid, 0) gives EPERM.)
        let (mut sleeper, pid) = spawn_sleeper_as_cluster_owner();
        let pid_file = format!(
            "{}\n{}\n1700000000\n5432\n{}\n\n  5432001 0\nready   \n",
            pid,
            cluster.data_dir().display(),
            cluster.socket_dir().display()
        );
        std::fs::write(cluster.data_dir().join("postmaster.pid"), &pid_file).unwrap();
        std::fs::write(
            cluster.socket_dir().join(".s.PGSQL.5432.lock"),
            format!("{}\n{}\n", pid, cluster.data_dir().display()),
        )
        .unwrap();
        let again = PrivateCluster::ensure_running_for_tests(&base).await;
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .output();
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        let again = again.unwrap();
        let mut conn = PgConnection::connect(&again.url("postgres")).await.unwrap();
        let one: i32 = sqlx::query_scalar("select 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(one, 1);
        conn.close().await.unwrap();
        again.stop().await.unwrap();
    }

    #[tokio::test]
    async fn start_failure_quotes_server_log() {
        let tmp = TempBase::new("fail");
        let base = tmp.0.join("base");
        let cluster = PrivateCluster::ensure_running_for_tests(&base)
            .await
            .unwrap();
        cluster.stop().await.unwrap();
        // Break the configuration so that the server cannot start.
        let conf = cluster.data_dir().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str("\nshared_buffers = 'not a size'\n");
        std::fs::write(&conf, text).unwrap();
        let err = PrivateCluster::ensure_running_for_tests(&base)
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ClusterError::StartFailed { .. }), "{msg}");
        assert!(msg.contains("shared_buffers"), "{msg}");
    }

    #[tokio::test]
    async fn unreachable_base_as_root_is_explained() {
        if !is_root() {
            eprintln!("skipped: not running as root");
            return;
        }
        let tmp = TempBase::new("unreach");
        let private = tmp.0.join("private");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        let err = PrivateCluster::ensure_running(&private.join("base"))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ClusterError::Unreachable(_)), "{msg}");
        assert!(msg.contains(&*private.to_string_lossy()), "{msg}");
        assert!(msg.contains("DATABASE_URL"), "{msg}");
        assert!(msg.contains("CDC_DATA_DIR"), "{msg}");
        assert!(!private.join("base/pg").exists());
    }
}
