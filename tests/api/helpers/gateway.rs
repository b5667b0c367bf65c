//! Spawning the gateway: a real listener on 127.0.0.1:0 with the test config.

use super::*;

/// The store a test gateway runs on. This file is compiled into three test binaries,
/// `api_memory`, `api_sqlite` and `api_postgres` (see Cargo.toml), and the binary's name picks
/// the backend: the suite is the same, the backend a parameter. This is the one place that
/// chooses it.
pub struct TestStore {
    /// The `store.url` the gateway gets.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh, empty store for one test: nothing is shared between tests.
pub async fn test_store() -> TestStore {
    match env!("CARGO_CRATE_NAME") {
        "api_memory" => TestStore {
            url: "memory://".into(),
            _dir: None,
        },
        "api_postgres" => TestStore {
            url: postgres_schema().await,
            _dir: None,
        },
        _ => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            TestStore {
                url: format!("sqlite://{}/gateway.db", dir.path().display()),
                _dir: Some(dir),
            }
        }
    }
}

/// A new schema in the test database and a URL whose connections use it. Without
/// GATEWAY_TEST_POSTGRES_URL the whole `api_postgres` binary is skipped, loudly.
pub(super) async fn postgres_schema() -> String {
    let Ok(base) = std::env::var("GATEWAY_TEST_POSTGRES_URL") else {
        static SKIP: std::sync::Once = std::sync::Once::new();
        // Written past libtest's output capture, so the skip is visible in any run; the first
        // test to get here ends the binary while the others wait.
        SKIP.call_once(|| {
            skip::skipped(
                "api_postgres",
                "no test ran: set GATEWAY_TEST_POSTGRES_URL \
                 (eval \"$(scripts/test-postgres.sh)\") to run the suite on PostgreSQL",
            );
            std::process::exit(0);
        });
        unreachable!("the skip ends the process");
    };
    postgres_schema::create(&base, "api").await
}

/// Where the TEST-ONLY keys live; `file:` settings resolve against it.
pub fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

/// A `[[clients]]` entry with keys by version (`file:NAME` or inline text).
pub fn client(
    client_id: &str,
    keys: &[(&str, &str)],
    endpoints: Option<&[&str]>,
) -> ClientSettings {
    ClientSettings {
        client_id: client_id.to_owned(),
        public_keys: keys
            .iter()
            .map(|(v, k)| ((*v).to_owned(), (*k).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        endpoints: endpoints.map(|names| names.iter().map(|n| (*n).to_owned()).collect()),
        notify_url: None,
        rate_limit_per_second: None,
        pass_through: false,
    }
}

/// The settings of a test gateway: the built-in defaults (not the environment, so a stray
/// `GATEWAY_*` variable cannot change a test), the TEST-ONLY keys and the three test clients.
pub fn test_settings() -> Settings {
    let mut settings: Settings = Figment::from(Toml::string(DEFAULT_TOML))
        .extract()
        .expect("the built-in defaults parse");
    settings.server.listen = "127.0.0.1:0".into();
    settings.signing.private_key = "file:TEST-ONLY-gateway-private.pem".into();
    settings.signing.key_version = "1".into();
    settings.admin.token = ADMIN_TOKEN.into();
    settings.clients = vec![
        client(
            MERCHANT,
            &[("1", "file:TEST-ONLY-merchant-public.pem")],
            None,
        ),
        client(
            INQUIRY_ONLY,
            &[("1", "file:TEST-ONLY-merchant-public.pem")],
            Some(&["inquiryPayment"]),
        ),
        client(
            ROTATED,
            &[
                ("1", "file:TEST-ONLY-other-public.pem"),
                ("2", "file:TEST-ONLY-merchant-public.pem"),
            ],
            None,
        ),
    ];
    settings
}

/// A running gateway and an HTTP client for it. Dropping it shuts the server down.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub(super) http: reqwest::Client,
    _shutdown: oneshot::Sender<()>,
    _store: TestStore,
}

/// A gateway with the test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A gateway with the test settings as changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let store = test_store().await;
    let mut settings = test_settings();
    settings.store.url = store.url.clone();
    configure(&mut settings);
    let config = settings
        .validate(&keys_dir())
        .expect("test settings validate");
    let payments = alipay_gateway::store::connect(&config.settings.store)
        .await
        .expect("the test store opens");
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = format!("http://{}", listener.local_addr().expect("local address"));
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(app::serve(
        listener,
        AppState::new(config, payments),
        async move {
            let _ = stopped.await;
        },
    ));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    TestApp {
        address,
        http,
        _shutdown: shutdown,
        _store: store,
    }
}

impl TestApp {
    /// A signed POST to `path`, ready to send; its options change one thing about it.
    pub fn post(&self, path: &str, body: impl Into<RawBody>) -> SignedPost<'_> {
        SignedPost {
            app: self,
            method: Method::POST,
            path: path.to_owned(),
            signed_path: None,
            body: body.into().0,
            client_id: Some(MERCHANT.to_owned()),
            key: Key::Merchant,
            key_version: Some("1".to_owned()),
            request_time: Some(now_epoch_millis()),
            content_type: Some("application/json; charset=UTF-8".to_owned()),
            encoding: Encoding::UpperHex,
            spaced: false,
            signature: SignatureChoice::Computed,
            tamper: None,
            extra: Vec::new(),
        }
    }

    /// Sends `body` to `path` the way the SDKs do: client [`MERCHANT`], keyVersion 1, epoch
    /// millis Request-Time, upper-case percent-encoding.
    pub async fn post_signed(&self, path: &str, body: impl Into<RawBody>) -> Reply {
        self.post(path, body).send().await
    }

    /// The admin API with the right token; `.without_token()` / `.with_token(..)` change it.
    pub fn admin(&self) -> Admin<'_> {
        Admin {
            app: self,
            token: Some(ADMIN_TOKEN.to_owned()),
        }
    }

    /// Seeds a payment through the admin API and insists it was created (an Arrange step).
    pub async fn seed_payment(&self, payment: Value) -> Value {
        let reply = self.admin().seed_payment(payment).await;
        assert_eq!(reply.status, 201, "seeding failed: {reply:?}");
        reply.json
    }
}
