//! A registered client: who may call, with which keys, which APIs and at what rate; and the
//! directory of every client, from the config file and registered at run time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::protocol::Endpoint;
use crate::signature::{KeyError, PublicKeys, VerifyingKey};

/// A client the gateway accepts, with its keys parsed.
pub struct Client {
    /// The Client-Id.
    pub id: String,
    /// Public keys by keyVersion.
    pub keys: PublicKeys,
    /// APIs it may call; `None` is all.
    pub allowed: Option<HashSet<Endpoint>>,
    /// Its request rate limit, if it has one.
    pub limiter: Option<DefaultDirectRateLimiter>,
    /// Real mode: it signs for the upstream itself, so it is admitted on its Client-Id and
    /// forwarded untouched.
    pub pass_through: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("key_versions", &self.keys.versions())
            .field("allowed", &self.allowed)
            .field("rate_limited", &self.limiter.is_some())
            .field("pass_through", &self.pass_through)
            .finish()
    }
}

/// What a client is built from, as the config file's `[[clients]]` or the admin API describe
/// it: its keys still text.
#[derive(Debug, Clone, Copy)]
pub struct ClientSpec<'a> {
    /// The Client-Id.
    pub id: &'a str,
    /// Public keys by keyVersion, as given (required unless `pass_through`).
    pub public_keys: &'a BTreeMap<String, String>,
    /// API names it may call; `None` is all.
    pub endpoints: Option<&'a [String]>,
    /// Requests per second it may make.
    pub rate_limit_per_second: Option<u32>,
    /// It signs for the upstream itself (real mode).
    pub pass_through: bool,
}

/// Why a client cannot be built; each names the setting, under `at` (`clients[0]`, `client`).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The Client-Id is empty or too long.
    #[error("{at}.client_id: must be 1 to 64 characters")]
    Id {
        /// Where the client is.
        at: String,
    },
    /// No public key, and the client does not pass through.
    #[error("{at}.public_keys: needs at least one keyVersion = key")]
    NoKeys {
        /// Where the client is.
        at: String,
    },
    /// A run-time client names a key file: the admin API reads no files.
    #[error("{key}: give the key itself (PEM or base64): a file: path is for the config file")]
    KeyFile {
        /// The setting, e.g. `client.public_keys.1`.
        key: String,
    },
    /// A public key that does not parse.
    #[error("{key}: {problem}")]
    Key {
        /// The setting, e.g. `clients[0].public_keys.1`.
        key: String,
        /// What is wrong with the key.
        problem: KeyError,
    },
    /// An API name that is not one of the gateway's.
    #[error(
        "{at}.endpoints: unknown API {name:?} (expected {})",
        Endpoint::ALL.map(Endpoint::name).join(", ")
    )]
    UnknownApi {
        /// Where the client is.
        at: String,
        /// The name given.
        name: String,
    },
    /// A rate limit of 0.
    #[error("{at}.rate_limit_per_second: must be at least 1 (omit it for no limit)")]
    ZeroRate {
        /// Where the client is.
        at: String,
    },
}

impl Client {
    /// A client from its description, keys parsed; `at` names it in errors. `key_text` turns a
    /// key as given (setting name, value) into the key's text: the config file reads `file:PATH`,
    /// the admin API refuses it.
    pub fn build<E: From<ClientError>>(
        spec: ClientSpec<'_>,
        at: &str,
        mut key_text: impl FnMut(&str, &str) -> Result<String, E>,
    ) -> Result<Self, E> {
        let at = || at.to_owned();
        if spec.id.is_empty() || spec.id.len() > 64 {
            return Err(ClientError::Id { at: at() }.into());
        }
        if spec.public_keys.is_empty() && !spec.pass_through {
            return Err(ClientError::NoKeys { at: at() }.into());
        }
        let mut keys = HashMap::new();
        for (version, text) in spec.public_keys {
            let key_at = format!("{}.public_keys.{version}", at());
            let text = key_text(&key_at, text)?;
            let key = VerifyingKey::from_text(&text).map_err(|problem| ClientError::Key {
                key: key_at,
                problem,
            })?;
            keys.insert(version.clone(), Arc::new(key));
        }
        let allowed = match spec.endpoints {
            None => None,
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| {
                        Endpoint::from_name(n).ok_or_else(|| ClientError::UnknownApi {
                            at: at(),
                            name: n.clone(),
                        })
                    })
                    .collect::<Result<HashSet<_>, _>>()?,
            ),
        };
        let limiter = match spec.rate_limit_per_second {
            None => None,
            Some(n) => Some(RateLimiter::direct(Quota::per_second(
                NonZeroU32::new(n).ok_or_else(|| ClientError::ZeroRate { at: at() })?,
            ))),
        };
        Ok(Client {
            id: spec.id.to_owned(),
            keys: PublicKeys::new(keys),
            allowed,
            limiter,
            pass_through: spec.pass_through,
        })
    }

    /// Whether a request now stays within the client's rate limit.
    pub fn within_rate_limit(&self) -> bool {
        self.limiter.as_ref().is_none_or(|l| l.check().is_ok())
    }

    /// Whether the client may call `endpoint`.
    pub fn may_call(&self, endpoint: Endpoint) -> bool {
        self.allowed
            .as_ref()
            .is_none_or(|set| set.contains(&endpoint))
    }
}

/// Where a Client-Id's requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// A config-file client: the default namespace.
    Config,
    /// A run-time client, in this namespace.
    RunTime(Arc<str>),
    /// No client has this id here (yet: another replica may just have registered it).
    Unknown,
}

/// A client registered at run time, as this process holds it.
#[derive(Debug, Clone)]
pub struct RunTimeClient {
    /// The client, keys parsed.
    pub client: Arc<Client>,
    /// Its namespace.
    pub namespace: Arc<str>,
    /// Its default notify URL.
    pub notify_url: Option<String>,
    /// When its registration last changed: a sync rebuilds it (and resets its rate limiter)
    /// only when this moves.
    pub updated_at_ms: i64,
}

/// Every client this process knows: the config file's, fixed, and those registered at run time,
/// kept in step with the store. Config-file clients are read without a lock, so the requests
/// of a gateway that never registers one pay nothing for the rest.
#[derive(Debug)]
pub struct Directory {
    config: Arc<HashMap<String, Arc<Client>>>,
    config_urls: Arc<HashMap<String, String>>,
    run_time: RwLock<RunTime>,
}

#[derive(Debug, Default)]
struct RunTime {
    clients: HashMap<String, RunTimeClient>,
    /// Every client's default notify URL, config-file ones included, rebuilt on each change.
    urls: Arc<HashMap<String, String>>,
}

impl Directory {
    /// The config file's clients and their notify URLs.
    pub fn new(
        config: Arc<HashMap<String, Arc<Client>>>,
        config_urls: Arc<HashMap<String, String>>,
    ) -> Self {
        let run_time = RunTime {
            clients: HashMap::new(),
            urls: Arc::clone(&config_urls),
        };
        Self {
            config,
            config_urls,
            run_time: RwLock::new(run_time),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, RunTime> {
        self.run_time.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, RunTime> {
        self.run_time.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The client with this Client-Id, config-file ones first.
    pub fn get(&self, id: &str) -> Option<Arc<Client>> {
        if let Some(client) = self.config.get(id) {
            return Some(Arc::clone(client));
        }
        self.read().clients.get(id).map(|c| Arc::clone(&c.client))
    }

    /// The client with this Client-Id if it belongs to `namespace`: config-file clients belong
    /// to the default one.
    pub fn get_in(&self, id: &str, namespace: &str) -> Option<Arc<Client>> {
        if namespace == crate::domain::namespace::DEFAULT_NAMESPACE
            && let Some(client) = self.config.get(id)
        {
            return Some(Arc::clone(client));
        }
        self.read()
            .clients
            .get(id)
            .filter(|c| &*c.namespace == namespace)
            .map(|c| Arc::clone(&c.client))
    }

    /// Where this Client-Id's requests go.
    pub fn locate(&self, id: &str) -> Located {
        if self.config.contains_key(id) {
            return Located::Config;
        }
        match self.read().clients.get(id) {
            Some(c) => Located::RunTime(Arc::clone(&c.namespace)),
            None => Located::Unknown,
        }
    }

    /// Whether a config-file client has this id.
    pub fn in_config(&self, id: &str) -> bool {
        self.config.contains_key(id)
    }

    /// The config file's clients.
    pub fn config_clients(&self) -> &HashMap<String, Arc<Client>> {
        &self.config
    }

    /// The run-time client with this id.
    pub fn run_time(&self, id: &str) -> Option<RunTimeClient> {
        self.read().clients.get(id).cloned()
    }

    /// The run-time clients of `namespace`, by id.
    pub fn run_time_in(&self, namespace: &str) -> Vec<RunTimeClient> {
        let mut found: Vec<RunTimeClient> = self
            .read()
            .clients
            .values()
            .filter(|c| &*c.namespace == namespace)
            .cloned()
            .collect();
        found.sort_by(|a, b| a.client.id.cmp(&b.client.id));
        found
    }

    /// Every run-time client's id and when it last changed.
    pub fn run_time_versions(&self) -> HashMap<String, i64> {
        self.read()
            .clients
            .iter()
            .map(|(id, c)| (id.clone(), c.updated_at_ms))
            .collect()
    }

    /// Every client's default notify URL.
    pub fn notify_urls(&self) -> Arc<HashMap<String, String>> {
        Arc::clone(&self.read().urls)
    }

    /// Holds (or replaces) a run-time client.
    pub fn put(&self, client: RunTimeClient) {
        let mut run_time = self.write();
        run_time.clients.insert(client.client.id.clone(), client);
        run_time.urls = self.urls_of(&run_time.clients);
    }

    /// Forgets run-time clients.
    pub fn forget<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let mut run_time = self.write();
        let before = run_time.clients.len();
        for id in ids {
            run_time.clients.remove(id);
        }
        if run_time.clients.len() != before {
            run_time.urls = self.urls_of(&run_time.clients);
        }
    }

    fn urls_of(&self, clients: &HashMap<String, RunTimeClient>) -> Arc<HashMap<String, String>> {
        let mut urls = (*self.config_urls).clone();
        for (id, c) in clients {
            if let Some(url) = &c.notify_url {
                urls.insert(id.clone(), url.clone());
            }
        }
        Arc::new(urls)
    }
}
