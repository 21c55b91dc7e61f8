//! Faults (SPEC §10), each on a PostgreSQL cluster of its own: PostgreSQL stopping under the
//! service (fail fast, recover alone) and reads from a real streaming replica (lag, loss,
//! read-your-writes). The SIGKILL of an instance behind a load balancer is
//! `bench/two-instances.sh`, run by CI.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use cdconcerns::pgcluster::PrivateCluster;
use sqlx::Connection;

use crate::harness::TestApp;
use crate::reports::incident;

const DB: &str = "cdconcerns";

/// Stops its clusters when the test ends, passed or not.
struct Clusters(Vec<PrivateCluster>);

impl Drop for Clusters {
    fn drop(&mut self) {
        let clusters = std::mem::take(&mut self.0);
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                for c in clusters.iter().rev() {
                    let _ = rt.block_on(c.stop());
                    if std::env::var_os("CDC_KEEP_FAULT_CLUSTERS").is_none() {
                        let _ = std::fs::remove_dir_all(c.base());
                    }
                }
            }
        })
        .join();
    }
}

fn base(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cdc-fault-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A cluster of the test's own with the service's database migrated, and the test app on it.
async fn app_on_own_cluster(
    name: &str,
    adjust: impl FnOnce(&mut cdconcerns::config::Config),
) -> (TestApp, PrivateCluster) {
    let cluster = PrivateCluster::ensure_running_for_tests(&base(name))
        .await
        .expect("a private cluster");
    cluster.ensure_database(DB).await.unwrap();
    cdconcerns::startup::migrate(&cluster.url(DB))
        .await
        .unwrap();
    let app = TestApp::on(cluster.connect_options(DB), DB.into(), adjust).await;
    (app, cluster)
}

async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn while_postgresql_is_down_requests_fail_within_a_second_and_the_service_recovers_alone() {
    let (app, cluster) = app_on_own_cluster("outage", |_| {}).await;
    let _stop = Clusters(vec![cluster.clone()]);
    let watchers = cdconcerns::startup::spawn_watchers(&app.state);
    let reporter = app.world.user("reporter").clone();
    let cdao = app.world.user("cdao").clone();
    let created = app
        .post("/api/v1/incidents")
        .token(&reporter)
        .json(&incident())
        .send()
        .await;
    created.assert_status(StatusCode::CREATED);
    let id = created.json()["id"].as_str().unwrap().to_string();
    // The reads whose connections are kept warm between reads (`app::warm`): the case list
    // and the case page, eight at once, so that several connections are kept. They are cut
    // off with the server below.
    let reads = [
        "/api/v1/cases?status=new".to_string(),
        format!("/api/v1/cases/{id}"),
    ];
    for path in &reads {
        let at_once = (0..8).map(|_| app.get(path).token(&cdao).send());
        for r in futures_util::future::join_all(at_once).await {
            r.assert_status(StatusCode::OK);
        }
    }

    cluster.stop().await.unwrap();
    // Every kind of request that needs the database: readiness, a write, a read, a page.
    for (method, path) in [
        ("GET", "/readyz"),
        ("POST", "/api/v1/incidents"),
        ("GET", "/api/v1/cases"),
        ("GET", "/readyz"),
    ] {
        let started = Instant::now();
        let req = match method {
            "POST" => app.post(path).json(&incident()),
            _ => app.get(path),
        };
        let r = req
            .token(if path.contains("cases") {
                &cdao
            } else {
                &reporter
            })
            .send()
            .await;
        let took = started.elapsed();
        r.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            r.header("retry-after").is_some(),
            "{method} {path}: no Retry-After"
        );
        assert!(
            took < Duration::from_secs(1),
            "{method} {path} took {took:?}"
        );
    }
    // What needs no database still answers.
    app.get("/healthz")
        .send()
        .await
        .assert_status(StatusCode::OK);

    // PostgreSQL comes back: the service notices by itself, without a restart.
    let cluster = PrivateCluster::ensure_running_for_tests(cluster.base())
        .await
        .unwrap();
    let took = wait_for("ready again", Duration::from_secs(10), async || {
        app.get("/readyz").send().await.status == StatusCode::OK
    })
    .await;
    eprintln!("ready {took:?} after PostgreSQL answered again");
    // The connections used before the outage were cut off with the server. Unless the
    // watcher saw the outage (this one is too short for it), the first read on one of them
    // learns so and answers 503 with Retry-After (never a 500). From then on, every
    // connection idle since before that read is checked before it is used: every later read
    // is answered.
    let mut refused = vec![];
    for path in reads.iter().chain(&reads).chain(&reads) {
        let r = app.get(path).token(&cdao).send().await;
        if r.status != StatusCode::OK {
            assert_eq!(
                r.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{path} after the outage"
            );
            assert!(r.header("retry-after").is_some(), "{path}: no Retry-After");
            refused.push(path.clone());
        }
    }
    assert!(refused.len() <= 1, "refused after the outage: {refused:?}");
    app.post("/api/v1/incidents")
        .token(&reporter)
        .json(&incident())
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM cases")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 2, "the two acknowledged submissions, nothing else");
    for w in watchers {
        w.abort();
    }
    drop(cluster);
}

async fn references(app: &TestApp, user: &crate::harness::TestUser) -> Vec<String> {
    let r = app.get("/api/v1/cases?limit=100").token(user).send().await;
    r.assert_status(StatusCode::OK);
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn the_case_list_reads_from_a_real_replica_until_it_lags_or_goes_and_writers_read_their_writes()
 {
    let (app, primary) = app_on_own_cluster("primary", |c| c.replica_max_lag_ms = 3000).await;
    let replica = primary.start_replica(&base("replica")).await.unwrap();
    let _stop = Clusters(vec![primary.clone(), replica.clone()]);
    let replica_pool = cdconcerns::startup::connect_with(replica.connect_options(DB), 4)
        .await
        .unwrap();
    cdconcerns::startup::use_replica(&app.state, replica_pool);
    let watchers = cdconcerns::startup::spawn_watchers(&app.state);
    let r = app.state.replica.get().unwrap();
    wait_for("the replica in use", Duration::from_secs(20), async || {
        r.status().0
    })
    .await;
    let reporter = app.world.user("reporter").clone();
    let cdao = app.world.user("cdao").clone();

    // A fresh commit replayed, then replay paused: the replica now lags behind what follows.
    let mut on_primary = sqlx::PgConnection::connect_with(&primary.connect_options(DB))
        .await
        .unwrap();
    // (The test cluster commits asynchronously; these commits flush the WAL.)
    sqlx::query("SET synchronous_commit = on")
        .execute(&mut on_primary)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE fault_probe (at timestamptz)")
        .execute(&mut on_primary)
        .await
        .unwrap();
    sqlx::query("INSERT INTO fault_probe VALUES (now())")
        .execute(&mut on_primary)
        .await
        .unwrap();
    let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(&mut on_primary)
        .await
        .unwrap();
    let mut on_replica = sqlx::PgConnection::connect_with(&replica.connect_options(DB))
        .await
        .unwrap();
    wait_for("the replica caught up", Duration::from_secs(10), async || {
        sqlx::query_scalar::<_, bool>(
            "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AND pg_last_xact_replay_timestamp() IS NOT NULL",
        )
            .bind(&lsn)
            .fetch_one(&mut on_replica)
            .await
            .unwrap_or(false)
    })
    .await;
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&mut on_replica)
        .await
        .unwrap();

    let created = app
        .post("/api/v1/incidents")
        .token(&reporter)
        .json(&incident())
        .send()
        .await;
    created.assert_status(StatusCode::CREATED);
    let reference = created.json()["reference"].as_str().unwrap().to_string();
    // A synchronous commit flushes the WAL up to here: the replica receives the new case
    // (and, paused, does not replay it).
    sqlx::query("INSERT INTO fault_probe VALUES (now())")
        .execute(&mut on_primary)
        .await
        .unwrap();
    // The writer reads their own write (from the primary) ...
    assert!(references(&app, &reporter).await.contains(&reference));
    // ... while someone else's list comes from the replica, which has not replayed it yet.
    assert!(
        !references(&app, &cdao).await.contains(&reference),
        "the CDAO's list should come from the (paused) replica"
    );
    // Lagging more than CDC_REPLICA_MAX_LAG_MS: reads go to the primary.
    wait_for(
        "reads leave the lagging replica",
        Duration::from_secs(10),
        async || references(&app, &cdao).await.contains(&reference),
    )
    .await;
    assert!(!r.status().0);
    // Caught up again: back to the replica, which now has it.
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&mut on_replica)
        .await
        .unwrap();
    wait_for(
        "the replica in use again",
        Duration::from_secs(10),
        async || r.status().0,
    )
    .await;
    assert!(references(&app, &cdao).await.contains(&reference));

    // The replica goes away: reads go to the primary, and nothing fails.
    drop(on_replica);
    replica.stop().await.unwrap();
    wait_for(
        "reads leave the lost replica",
        Duration::from_secs(5),
        async || !r.status().0,
    )
    .await;
    assert!(references(&app, &cdao).await.contains(&reference));
    app.get("/api/v1/stats?group_by=category")
        .token(&cdao)
        .send()
        .await
        .assert_status(StatusCode::OK);
    for w in watchers {
        w.abort();
    }
}

#[tokio::test]
async fn a_warm_connection_is_kept_only_after_a_read_that_completed() {
    use cdconcerns::app::warm::Warm;
    let app = TestApp::new().await;
    // One connection, so that every read below is on the same one when it is kept.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*app.pool.connect_options()).clone())
        .await
        .unwrap();
    let warm = Warm::over(pool);
    let pid = async |c: &mut sqlx::PgConnection| -> i32 {
        sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(c)
            .await
            .unwrap()
    };

    // A read that completed keeps its connection: the same server process answers the next.
    let mut c = warm.acquire().await.unwrap();
    let first = pid(&mut c).await;
    c.keep();
    let mut c = warm.acquire().await.unwrap();
    assert_eq!(pid(&mut c).await, first);

    // A read dropped midway (its request gone) is not kept: its connection goes back to the
    // pool, which waits for what was pending. The next read gets its own answer, not the
    // dropped one's.
    let dropped = tokio::time::timeout(
        Duration::from_millis(100),
        sqlx::query_scalar::<_, i32>("SELECT 7 FROM pg_sleep(0.5)").fetch_one(&mut *c),
    )
    .await;
    assert!(dropped.is_err(), "the read was meant to be cut short");
    drop(c);
    let mut c = warm.acquire().await.unwrap();
    let answer: i32 = sqlx::query_scalar("SELECT 42")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    assert_eq!(answer, 42);

    // All in use: the next reader waits in line, and gets the connection once it is kept.
    let other = warm.clone();
    let waiting = tokio::spawn(async move {
        let mut c = other.acquire().await.unwrap();
        let n: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        c.keep();
        n
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !waiting.is_finished(),
        "a second reader took a connection in use"
    );
    c.keep();
    assert_eq!(waiting.await.unwrap(), 1);
}
