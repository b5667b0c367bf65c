//! `store.url`, parsed once: which backend it names and where its data lives. Everything that
//! opens, places or sweeps a store matches on [`StoreUrl`], never on the URL's text.

use std::fmt;
use std::path::{Path, PathBuf};

/// A store URL the gateway can open.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `memory://`: nothing is kept across restarts.
    Memory,
    /// `sqlite://PATH[?QUERY]`: a database file.
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// sqlx's connection options after the `?`, or empty.
        query: String,
    },
    /// `postgres://...` or `postgresql://...`, as written.
    Postgres(String),
}

/// A `store.url` that names no backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be memory://, sqlite://PATH or postgres://...")]
pub struct UnknownBackend;

impl StoreUrl {
    /// Parses `url` (surrounding spaces ignored).
    pub fn parse(url: &str) -> Result<Self, UnknownBackend> {
        let url = url.trim();
        if url == "memory://" {
            return Ok(StoreUrl::Memory);
        }
        if let Some(rest) = url.strip_prefix("sqlite://") {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            return Ok(StoreUrl::Sqlite {
                path: PathBuf::from(path),
                query: query.to_owned(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(url.to_owned()));
        }
        Err(UnknownBackend)
    }

    /// The SQLite database at `path`, with the same connection options as this one (a
    /// namespace's file beside the default one).
    pub fn sqlite_beside(&self, path: PathBuf) -> StoreUrl {
        let query = match self {
            StoreUrl::Sqlite { query, .. } => query.clone(),
            _ => String::new(),
        };
        StoreUrl::Sqlite { path, query }
    }

    /// The SQLite file, when it is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            StoreUrl::Sqlite { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The backend's name for logs (`memory`, `sqlite`, `postgres`).
    pub fn backend(&self) -> &'static str {
        match self {
            StoreUrl::Memory => "memory",
            StoreUrl::Sqlite { .. } => "sqlite",
            StoreUrl::Postgres(_) => "postgres",
        }
    }

    /// The URL as sqlx and the user write it, password included: never log it (its
    /// `Display` hides the password).
    pub fn to_url(&self) -> String {
        match self {
            StoreUrl::Memory => "memory://".to_owned(),
            StoreUrl::Sqlite { path, query } if query.is_empty() => {
                format!("sqlite://{}", path.display())
            }
            StoreUrl::Sqlite { path, query } => format!("sqlite://{}?{query}", path.display()),
            StoreUrl::Postgres(url) => url.clone(),
        }
    }
}

/// The URL with its password hidden, for logs and errors.
impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::redact_url(&self.to_url()))
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_backend_is_told_by_its_scheme_and_written_back_as_given() {
        for url in [
            "memory://",
            "sqlite://data/gateway.db",
            "sqlite:///tmp/gw.db?mode=rwc",
            "postgres://gw:pw@db/gw",
            "postgresql://db/gw?sslmode=disable",
        ] {
            assert_eq!(StoreUrl::parse(url).unwrap().to_url(), url);
        }
        assert_eq!(
            StoreUrl::parse(" sqlite://a/b.db?x=1 ").unwrap(),
            StoreUrl::Sqlite {
                path: PathBuf::from("a/b.db"),
                query: "x=1".into()
            }
        );
    }

    #[test]
    fn an_unknown_scheme_is_refused_naming_the_three_backends() {
        let e = StoreUrl::parse("mysql://db/gw").unwrap_err();
        assert_eq!(
            e.to_string(),
            "must be memory://, sqlite://PATH or postgres://..."
        );
    }

    #[test]
    fn the_password_never_shows() {
        let url = StoreUrl::parse("postgres://gw:s3cret@db/gw").unwrap();
        assert!(!url.to_string().contains("s3cret"));
        assert!(!format!("{url:?}").contains("s3cret"));
    }
}
