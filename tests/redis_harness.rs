//! The Redis test harness itself: a real `redis-server` starts, answers, keeps what it
//! acknowledged across a `SIGKILL` and a restart on the same files, and stops when dropped.

#[path = "support/redis.rs"]
mod redis;

use redis::RedisServer;

#[test]
fn a_write_acknowledged_before_a_sigkill_is_there_after_the_restart() {
    let Some(mut server) = RedisServer::start("harness-kill") else {
        return;
    };
    assert_eq!(server.command(&["SET", "k", "v"]), "+OK");
    assert_eq!(server.command(&["RPUSH", "l", "a", "b"]), ":2");
    server.kill();
    server.restart();
    assert_eq!(server.command(&["GET", "k"]), "$ v");
    assert_eq!(server.command(&["LRANGE", "l", "0", "-1"]), "*2 $ a $ b");
    assert_eq!(
        server.command(&["CONFIG", "GET", "appendfsync"]),
        "*2 $ appendfsync $ always"
    );
}

#[test]
fn the_server_stops_when_dropped() {
    let Some(server) = RedisServer::start("harness-drop") else {
        return;
    };
    let url = server.url();
    let port: u16 = url
        .trim_start_matches("redis://127.0.0.1:")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    drop(server);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens on {port} once the server is dropped"
    );
}
