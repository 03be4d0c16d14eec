//! Per-call overhead of `gewe` against a hand-written `reqwest` + `serde_json` POST doing the same
//! work (token header, JSON body, decode an equivalent struct, check `ret`), to the same mock on
//! loopback, in the same run. Run: `cargo bench --bench overhead`.

use divan::Bencher;

#[path = "support/hand.rs"]
mod hand;
use gewe::mock::MockServer;
use std::sync::OnceLock;

fn main() {
    divan::main();
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    _mock: MockServer,
    base: String,
    token: String,
    gewe: gewe::Client,
    http: reqwest::Client,
    body: gewe::types::MessagePostTextRequest,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let mock = rt.block_on(MockServer::start()).unwrap();
        let gewe = mock.client().unwrap();
        let body = serde_json::from_value(serde_json::json!({"appId": "wx_app", "toWxid": "wxid_friend", "content": "hello", "ats": ""})).unwrap();
        Fixture {
            base: mock.base_url(),
            token: mock.token().to_string(),
            rt,
            _mock: mock,
            gewe,
            http: reqwest::Client::new(),
            body,
        }
    })
}

async fn hand_written(f: &Fixture) -> hand::HandData {
    hand::post_text(&f.http, &f.base, &f.token, &f.body).await
}

async fn via_gewe(f: &Fixture) -> gewe::types::MessagePostTextData {
    f.gewe.message_post_text(&f.body).await.unwrap()
}

#[divan::bench(sample_count = 300)]
fn sequential_hand_written(b: Bencher) {
    let f = fixture();
    b.bench(|| f.rt.block_on(hand_written(f)));
}

#[divan::bench(sample_count = 300)]
fn sequential_gewe(b: Bencher) {
    let f = fixture();
    b.bench(|| f.rt.block_on(via_gewe(f)));
}

const IN_FLIGHT: usize = 64;

#[divan::bench(sample_count = 40)]
fn in_flight_64_hand_written(b: Bencher) {
    let f = fixture();
    b.bench(|| {
        f.rt.block_on(async {
            let calls: Vec<_> = (0..IN_FLIGHT)
                .map(|_| f.rt.spawn(hand_written(f)))
                .collect();
            for c in calls {
                c.await.unwrap();
            }
        })
    });
}

#[divan::bench(sample_count = 40)]
fn in_flight_64_gewe(b: Bencher) {
    let f = fixture();
    b.bench(|| {
        f.rt.block_on(async {
            let calls: Vec<_> = (0..IN_FLIGHT).map(|_| f.rt.spawn(via_gewe(f))).collect();
            for c in calls {
                c.await.unwrap();
            }
        })
    });
}
