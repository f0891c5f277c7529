//! The PostgreSQL server the tests use, shared by the ledger's, the hub's and the command line's
//! tests (each includes this file).
//!
//! `FUSIONGUARD_TEST_PG` names it (a libpq connection string); the default is CI's,
//! `host=127.0.0.1 port=5432 user=postgres dbname=test`. When nothing answers there, the tests
//! start a private throwaway cluster from the installed binaries (`initdb`, `pg_ctl`) in a new
//! temporary folder, on a free port, stopped and removed once the test process has ended. Only when
//! PostgreSQL is not installed at all do they fail, saying how to install it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// CI's server.
pub const DEFAULT: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

/// The connection string of the server the tests use (started on first use if need be).
pub fn conninfo() -> &'static str {
    static CONNINFO: OnceLock<String> = OnceLock::new();
    CONNINFO.get_or_init(|| {
        let wanted = std::env::var("FUSIONGUARD_TEST_PG").unwrap_or_else(|_| DEFAULT.to_string());
        match postgres::Client::connect(&wanted, postgres::NoTls) {
            Ok(_) => wanted,
            Err(e) => {
                eprintln!("PostgreSQL does not answer at {wanted:?} ({e}); starting a private cluster for these tests");
                private_cluster(&wanted)
            }
        }
    })
}

/// The folder of `initdb` and `pg_ctl`: on the PATH, else Debian's newest `/usr/lib/postgresql/*/bin`.
fn bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) =
            std::env::split_paths(&path).find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
        {
            return Some(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.join("initdb").is_file())
        .collect();
    versions.sort_by_key(|d| {
        d.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
    });
    versions.pop()
}

/// `program` with `args`, as the `postgres` user when running as root (initdb refuses root).
fn command(bin: &Path, program: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(program));
        c
    } else {
        Command::new(bin.join(program))
    }
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn private_cluster(wanted: &str) -> String {
    let Some(bin) = bin_dir() else {
        panic!(
            "PostgreSQL answers nowhere at {wanted:?} and is not installed here: install it (Debian: \
             apt-get install -y postgresql) or set FUSIONGUARD_TEST_PG to a server the tests may use"
        )
    };
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("fusionguard-test-pg-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    if root {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres").arg(&dir);
                c
            },
            "chown postgres (initdb refuses to run as root)",
        );
    }
    let data = dir.join("data");
    let mut initdb = command(&bin, "initdb", root);
    initdb.arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    run(initdb, "initdb");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap();
    let mut start = command(&bin, "pg_ctl", root);
    start
        .arg("-D")
        .arg(&data)
        .arg("-o")
        .arg(format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", dir.display()))
        .arg("-l")
        .arg(dir.join("log"))
        .args(["-w", "start"]);
    run(start, "pg_ctl start");
    // Stopped and removed once this test process has ended, however it ends.
    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runuser}{pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        runuser = if root { "runuser -u postgres -- " } else { "" },
        pg_ctl = bin.join("pg_ctl").display(),
        data = data.display(),
        dir = dir.display(),
    );
    let _ = Command::new("sh").arg("-c").arg(stop).stdin(std::process::Stdio::null()).spawn();
    let admin = format!("host=127.0.0.1 port={port} user=postgres dbname=postgres");
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| panic!("{admin}: {e}"));
    client.batch_execute("CREATE DATABASE test").unwrap();
    format!("host=127.0.0.1 port={port} user=postgres dbname=test")
}
