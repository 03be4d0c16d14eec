//! A real `redis-server` for the Redis tests: a child process on a free loopback port, its
//! files in a scratch folder, durable on every write (`appendonly yes`, `appendfsync always`),
//! stopped when dropped. It can be killed with `SIGKILL` and restarted on the same files.
//!
//! Where `redis-server` is not installed, [`RedisServer::start`] prints one line saying the
//! test is skipped and returns `None`; under `GEWE_REQUIRE_REDIS=1` (which `.ci/run` sets) it
//! panics instead, so that a missing server never passes as a skip. The benchmarks, which
//! cannot skip, use [`RedisServer::start_required`].

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a start or a restart (which replays the append-only file) may take.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// A `redis-server` child process; killed when dropped.
pub struct RedisServer {
    program: PathBuf,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// `redis-server` on the `PATH`, if any.
fn find_redis_server() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
}

impl RedisServer {
    /// Starts a server for the test `test`, or `None` (after one line saying why) when
    /// `redis-server` is not installed and `GEWE_REQUIRE_REDIS` is not `1`.
    pub fn start(test: &str) -> Option<RedisServer> {
        let Some(program) = find_redis_server() else {
            let required = std::env::var("GEWE_REQUIRE_REDIS").is_ok_and(|v| v.trim() == "1");
            assert!(
                !required,
                "{test}: redis-server is not installed, and GEWE_REQUIRE_REDIS=1 requires it \
                 (apt-get install redis-server)"
            );
            println!(
                "{test}: skipped: redis-server is not installed (apt-get install redis-server; \
                 GEWE_REQUIRE_REDIS=1 makes this a failure)"
            );
            return None;
        };
        let dir = std::env::temp_dir().join(format!("gewe-redis-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch folder for redis-server");
        let mut server = RedisServer {
            program,
            port: free_port(),
            dir,
            child: None,
        };
        server.spawn();
        Some(server)
    }

    /// Starts a server for `name`, or exits the process, saying how to install `redis-server`,
    /// when it is absent: for a benchmark, where a skip would report nothing.
    pub fn start_required(name: &str) -> RedisServer {
        if find_redis_server().is_none() {
            eprintln!(
                "{name}: redis-server is not installed, and this benchmark needs it \
                 (apt-get install redis-server)"
            );
            std::process::exit(2);
        }
        RedisServer::start(name).expect("redis-server is installed")
    }

    /// The URL to connect to, e.g. `redis://127.0.0.1:40123/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The folder holding the server's files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Kills the server with `SIGKILL` (no shutdown, no final save) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and the same files, once it is stopped.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Sends one command and returns its reply in RESP's text form (`+OK`, `:12`, `$3 abc`,
    /// `*2 …`), for checks that need no client library.
    pub fn command(&self, args: &[&str]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("redis answers");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        stream.write_all(&encode(args)).expect("a command sent");
        let mut reader = BufReader::new(stream);
        read_reply(&mut reader).expect("a reply")
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.join("redis.log")).expect("a log file");
        let child = Command::new(&self.program)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--appendonly", "yes"])
            .args(["--appendfsync", "always"])
            .args(["--save", ""])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        self.wait_ready();
    }

    /// Waits until the server answers `PING` with `PONG` (not `LOADING`, while it replays its
    /// files).
    fn wait_ready(&mut self) {
        let started = Instant::now();
        while started.elapsed() < READY_WITHIN {
            if let Some(child) = &mut self.child {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "redis-server exited with {status} at start; its log: {}",
                        self.dir.join("redis.log").display()
                    );
                }
            }
            if ping(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-server on port {} did not answer PING within {READY_WITHIN:?}; its log: {}",
            self.port,
            self.dir.join("redis.log").display()
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on now. Another process may take it before the server does; the
/// server then fails to start, and the test says so.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(&encode(&["PING"])).is_err() {
        return false;
    }
    let mut reader = BufReader::new(stream);
    matches!(read_reply(&mut reader).as_deref(), Some("+PONG"))
}

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

/// One RESP2 reply, flattened to text.
fn read_reply(reader: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let line = line.trim_end_matches("\r\n");
    let (kind, rest) = line.split_at(line.char_indices().nth(1)?.0);
    match kind {
        "$" => {
            let len: i64 = rest.parse().ok()?;
            if len < 0 {
                return Some("$-1".into());
            }
            let mut data = vec![0u8; usize::try_from(len).ok()? + 2];
            reader.read_exact(&mut data).ok()?;
            data.truncate(data.len() - 2);
            Some(format!("$ {}", String::from_utf8_lossy(&data)))
        }
        "*" => {
            let len: i64 = rest.parse().ok()?;
            let mut items = vec![format!("*{len}")];
            for _ in 0..len.max(0) {
                items.push(read_reply(reader)?);
            }
            Some(items.join(" "))
        }
        _ => Some(line.to_owned()),
    }
}
