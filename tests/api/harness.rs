//! The test app: the real router on a fresh database, a hand-moved clock, and one user of
//! every role in a small world of areas and organisations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::OnceCell;
use tower::ServiceExt;
use uuid::Uuid;

use cdconcerns::auth::{self, Totp};
use cdconcerns::config::{Config, Secret};
use cdconcerns::domain::directory::Role;
use cdconcerns::seed as dir;
use cdconcerns::startup as db;
use cdconcerns::state::{AppState, ManualClock};

pub const PASSWORD: &str = "correct horse battery staple";
pub const TOTP_SECRET: [u8; 20] = *b"cd-concerns-test-key";

static PASSWORD_HASH: OnceCell<String> = OnceCell::const_new();

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub pool: PgPool,
    pub db_name: String,
    pub world: World,
}

#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
    /// A signed-in session cookie (`name=value`).
    pub cookie: String,
    /// A live API token.
    pub token: String,
}

#[derive(Clone, Debug, Default)]
pub struct World {
    pub gm: Uuid,
    pub london: Uuid,
    pub pharmacy_gm: Uuid,
    pub pharmacy_london: Uuid,
    pub police_gm: Uuid,
    pub gphc: Uuid,
    pub nhse_nw: Uuid,
    pub nhse_london: Uuid,
    pub users: HashMap<&'static str, TestUser>,
}

impl World {
    pub fn user(&self, key: &str) -> &TestUser {
        self.users
            .get(key)
            .unwrap_or_else(|| panic!("no test user {key}"))
    }
}

pub fn test_config() -> Config {
    let mut c = Config::from_lookup(|_| None).unwrap();
    c.identity_key = Some(Secret::new([1u8; 32]));
    c.index_key = Some(Secret::new([2u8; 32]));
    c.public_url = "http://cdc.test".into();
    c.signin_rate_limit = 1000;
    c.api_rate_limit = 0;
    c
}

impl TestApp {
    pub async fn new() -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            cdconcerns::telemetry::init(cdconcerns::config::LogFormat::Text);
        }
        Self::with_config(|_| {}).await
    }

    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> Self {
        let (opts, db_name) = crate::harness_db::fresh_database_options(&db::MIGRATOR).await;
        Self::on(opts, db_name, adjust).await
    }

    /// The test app on a database that is already migrated (the fault tests' own clusters).
    pub async fn on(
        opts: sqlx::postgres::PgConnectOptions,
        db_name: String,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let pool = db::connect_with(opts, 5)
            .await
            .expect("connect to the test database");
        let mut config = test_config();
        adjust(&mut config);
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap(),
        ));
        let identity = config.identity_key.clone().unwrap();
        let index = config.index_key.clone().unwrap();
        let state = AppState::new(pool.clone(), config, clock.clone(), &identity, index);
        let router = cdconcerns::web::build_router(state.clone());
        let mut app = TestApp {
            router,
            state,
            clock,
            pool,
            db_name,
            world: World::default(),
        };
        app.world = app.build_world().await;
        app
    }

    async fn build_world(&self) -> World {
        let now = self.state.now();
        let mut tx = self.pool.begin().await.unwrap();
        let area = |name: &str| dir::Area {
            id: Uuid::now_v7(),
            name: name.into(),
            region: "Region".into(),
            two_person_rule: true,
            cdao_mailbox: Some("england.cdao@nhs.net".into()),
        };
        let gm = area("Greater Manchester");
        let london = area("London");
        dir::insert_area(&mut tx, &gm, now).await.unwrap();
        dir::insert_area(&mut tx, &london, now).await.unwrap();
        let mut orgs = HashMap::new();
        for (key, name, kind, sector, areas) in [
            (
                "pharmacy_gm",
                "GM Pharmacy",
                "provider",
                "community_pharmacy",
                vec![gm.id],
            ),
            (
                "pharmacy_london",
                "London Pharmacy",
                "provider",
                "community_pharmacy",
                vec![london.id],
            ),
            ("police_gm", "GM Police", "member", "police", vec![gm.id]),
            (
                "gphc",
                "GPhC",
                "member",
                "regulator",
                vec![gm.id, london.id],
            ),
            (
                "nhse_nw",
                "NHS England North West",
                "nhse",
                "nhs_england",
                vec![gm.id],
            ),
            (
                "nhse_london",
                "NHS England London",
                "nhse",
                "nhs_england",
                vec![london.id],
            ),
        ] {
            let o = dir::Organisation {
                id: Uuid::now_v7(),
                name: name.into(),
                kind: kind.into(),
                sector: sector.into(),
                ods_code: None,
                area_ids: areas,
                disabled: false,
            };
            dir::save_organisation(&mut tx, &o, now, true)
                .await
                .unwrap();
            orgs.insert(key, o.id);
        }
        tx.commit().await.unwrap();
        let mut world = World {
            gm: gm.id,
            london: london.id,
            pharmacy_gm: orgs["pharmacy_gm"],
            pharmacy_london: orgs["pharmacy_london"],
            police_gm: orgs["police_gm"],
            gphc: orgs["gphc"],
            nhse_nw: orgs["nhse_nw"],
            nhse_london: orgs["nhse_london"],
            users: HashMap::new(),
        };
        let specs: Vec<(&'static str, Role, Option<Uuid>, Vec<Uuid>)> = vec![
            ("reporter", Role::Reporter, Some(world.pharmacy_gm), vec![]),
            (
                "reporter_london",
                Role::Reporter,
                Some(world.pharmacy_london),
                vec![],
            ),
            ("org_lead", Role::OrgLead, Some(world.pharmacy_gm), vec![]),
            ("cdao", Role::Cdao, Some(world.nhse_nw), vec![gm.id]),
            (
                "cdao_london",
                Role::Cdao,
                Some(world.nhse_london),
                vec![london.id],
            ),
            ("member", Role::Member, Some(world.police_gm), vec![]),
            ("admin", Role::Admin, None, vec![]),
            ("auditor", Role::Auditor, None, vec![]),
            ("analyst", Role::Analyst, None, vec![]),
        ];
        for (key, role, org, areas) in specs {
            let u = self.create_user(key, role, org, areas).await;
            world.users.insert(key, u);
        }
        world
    }

    /// An active user with the test password, a second factor where the role needs one,
    /// a signed-in session and an API token.
    pub async fn create_user(
        &self,
        key: &str,
        role: Role,
        org: Option<Uuid>,
        areas: Vec<Uuid>,
    ) -> TestUser {
        let hash = PASSWORD_HASH
            .get_or_init(|| async { auth::hash_password(PASSWORD.into()).await.unwrap() })
            .await
            .clone();
        let now = self.state.now();
        let id = Uuid::now_v7();
        let email = format!("{key}.{}@test.nhs.uk", &id.simple().to_string()[24..]);
        let mut tx = self.pool.begin().await.unwrap();
        dir::insert_user(
            &mut tx,
            &dir::UserRecord {
                id,
                email: email.clone(),
                name: format!("Test {key}"),
                role: role.code().into(),
                organisation_id: org,
                area_ids: areas,
                status: "active".into(),
            },
            now,
        )
        .await
        .unwrap();
        dir::set_password(&mut tx, id, &hash, now).await.unwrap();
        if role.requires_mfa() {
            let sealed = auth::seal_totp(&self.state.sealer, id, &TOTP_SECRET).unwrap();
            dir::set_totp(&mut tx, id, Some(1), Some(&sealed), true, None, now)
                .await
                .unwrap();
        }
        let (session, session_hash) = cdconcerns::crypto::new_token("").unwrap();
        dir::create_session(&mut tx, &session_hash, id, true, now)
            .await
            .unwrap();
        let (token, token_hash) = cdconcerns::crypto::new_token("cdc_").unwrap();
        dir::insert_token(
            &mut tx,
            Uuid::now_v7(),
            id,
            "test",
            &token_hash,
            now,
            now + chrono::TimeDelta::days(30),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        TestUser {
            id,
            email,
            role,
            organisation_id: org,
            cookie: format!("cdc_session={session}"),
            token,
        }
    }

    pub fn totp_now(&self) -> String {
        Totp::from_secret(&TOTP_SECRET, "")
            .unwrap()
            .code_at(self.state.now())
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            app: self,
            builder: Request::builder()
                .method(method)
                .uri(path)
                .header(header::HOST, "cdc.test"),
            body: Body::empty(),
        }
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Req<'_> {
        self.req(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req(Method::DELETE, path)
    }

    /// A raw superuser connection (no application role): for what the service itself may
    /// not do, such as tampering with the audit trail.
    pub async fn superuser(&self) -> sqlx::PgConnection {
        crate::harness_db::superuser_connection(&self.db_name).await
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        sqlx::query_scalar::<_, String>("SELECT action FROM audit_events ORDER BY at, id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

pub struct Req<'a> {
    app: &'a TestApp,
    builder: axum::http::request::Builder,
    body: Body,
}

impl<'a> Req<'a> {
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.builder = self.builder.header(k, v);
        self
    }

    /// As `user`, through their API token.
    pub fn token(self, user: &TestUser) -> Self {
        let t = format!("Bearer {}", user.token);
        self.header("authorization", &t)
    }

    /// As `user`, through their browser session.
    pub fn session(self, user: &TestUser) -> Self {
        let c = user.cookie.clone();
        self.header("cookie", &c)
    }

    pub fn cookie(self, cookie: &str) -> Self {
        self.header("cookie", cookie)
    }

    pub fn json(mut self, v: &Value) -> Self {
        self.builder = self
            .builder
            .header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(v.to_string());
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.builder = self.builder.header(header::CONTENT_TYPE, content_type);
        self.body = Body::from(body.into());
        self
    }

    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.builder = self
            .builder
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("origin", "http://cdc.test")
            .header("sec-fetch-site", "same-origin");
        self.body = Body::from(body);
        self
    }

    pub async fn send(self) -> Resp {
        let req = self.builder.body(self.body).unwrap();
        self.app.send(req).await
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header("location").unwrap_or("")
    }

    /// The session cookie this response sets (`name=value`), if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("cdc_session=") && !v.contains("Max-Age=0"))
            .map(|v| v.split(';').next().unwrap_or("").to_string())
    }

    /// The names of the fields a 422 problem lists.
    pub fn error_fields(&self) -> Vec<String> {
        let v = self.json();
        v["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn assert_status(&self, expected: StatusCode) -> &Self {
        assert_eq!(self.status, expected, "body: {}", self.text());
        self
    }
}
