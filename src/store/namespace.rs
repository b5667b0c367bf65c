//! Where a namespace's own store lives, beside the default one: opened, removed, and swept when
//! a gateway killed mid-delete left one behind. Named after the namespace's name and id, so a
//! name created again never meets the old data.

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::sql::{self, SqlStore};
use super::{MemoryStore, Store, StoreError, StoreSettings, StoreUrl};

/// How long a namespace's idle connections stay open: an idle namespace holds none.
const NAMESPACE_IDLE: Duration = Duration::from_secs(30);

/// Where a namespace's own store lives: a SQLite file next to the default file (`gateway.db` →
/// `gateway.ns-NAME.ID.db`), a PostgreSQL schema in the same database (`gateway_ns_NAME_ID`, or
/// `SCHEMA_ns_NAME_ID` beside a default store in a schema other than `public`), or, with
/// `memory://`, a memory store of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NamespacePlace {
    /// A memory store of its own.
    Memory,
    /// A SQLite database: the store URL, and the files to remove with it.
    Sqlite { url: StoreUrl, files: Vec<PathBuf> },
    /// A schema of the default PostgreSQL database, for the namespace store `namespace`
    /// (`NAME_ID`).
    Postgres { url: StoreUrl, namespace: String },
}

/// The default SQLite file's directory, name before its extension and extension (with its
/// dot).
struct SqliteFile {
    dir: PathBuf,
    stem: String,
    ext: String,
}

impl SqliteFile {
    fn of(path: &Path) -> Self {
        Self {
            dir: path.parent().map_or_else(PathBuf::new, Path::to_path_buf),
            stem: path.file_stem().map_or_else(
                || "gateway".to_owned(),
                |s| s.to_string_lossy().into_owned(),
            ),
            ext: path
                .extension()
                .map_or_else(String::new, |e| format!(".{}", e.to_string_lossy())),
        }
    }

    /// The prefix of every namespace's file name beside the default file.
    fn prefix(&self) -> String {
        format!("{}.ns-", self.stem)
    }

    /// The file name of the namespace `name` with id `id`.
    fn name_of(&self, name: &str, id: &str) -> String {
        format!("{}{name}.{id}{}", self.prefix(), self.ext)
    }
}

/// Where the namespace `name` with id `id` (both checked: lowercase letters, digits, dashes)
/// lives.
fn namespace_place(
    settings: &StoreSettings,
    name: &str,
    id: &str,
) -> Result<NamespacePlace, StoreError> {
    Ok(match settings.store_url()? {
        StoreUrl::Memory => NamespacePlace::Memory,
        url @ StoreUrl::Sqlite { .. } => {
            let file = SqliteFile::of(url.sqlite_path().unwrap_or(Path::new("")));
            let own = file.dir.join(file.name_of(name, id));
            let files = ["", "-wal", "-shm"]
                .iter()
                .map(|suffix| PathBuf::from(format!("{}{suffix}", own.display())))
                .collect();
            NamespacePlace::Sqlite {
                url: url.sqlite_beside(own),
                files,
            }
        }
        url @ StoreUrl::Postgres(_) => NamespacePlace::Postgres {
            url,
            namespace: format!("{name}_{id}"),
        },
    })
}

/// Opens (creating it when missing) the store of the namespace `name` with id `id`, with at
/// most `max_connections` connections, its schema brought up to date.
pub async fn open_namespace(
    settings: &StoreSettings,
    name: &str,
    id: &str,
    max_connections: u32,
) -> Result<Arc<dyn Store>, StoreError> {
    let options = sql::SqlOptions {
        idle_timeout: Some(NAMESPACE_IDLE),
        ..super::sql_options(settings, max_connections)
    };
    let store = match namespace_place(settings, name, id)? {
        NamespacePlace::Memory => {
            return Ok(Arc::new(MemoryStore::with_max_entries(
                settings.memory_max_entries,
            )));
        }
        NamespacePlace::Sqlite { url, .. } => SqlStore::connect(&url, &options).await?,
        NamespacePlace::Postgres { url, namespace } => {
            let options = sql::SqlOptions {
                namespace: Some(namespace),
                ..options
            };
            SqlStore::connect(&url, &options).await?
        }
    };
    if let Err(e) = store.migrate().await {
        store.close().await;
        return Err(e);
    }
    Ok(Arc::new(store))
}

/// Removes what the namespace `name` with id `id` kept: its SQLite files or its PostgreSQL
/// schema. Its store must be closed first.
pub async fn remove_namespace(
    settings: &StoreSettings,
    name: &str,
    id: &str,
) -> Result<(), StoreError> {
    match namespace_place(settings, name, id)? {
        NamespacePlace::Memory => Ok(()),
        NamespacePlace::Sqlite { files, .. } => {
            for file in files {
                remove_file(&file)?;
            }
            Ok(())
        }
        NamespacePlace::Postgres { url, namespace } => {
            sql::drop_schema(&url.to_url(), &namespace).await
        }
    }
}

fn remove_file(file: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Internal(format!(
            "cannot remove {}: {e}",
            file.display()
        ))),
        _ => Ok(()),
    }
}

/// Removes the stores of namespaces that no longer exist: what a gateway killed between deleting
/// a namespace and removing its store left behind. `live` are the (name, id) of those that
/// exist, read *after* the stores were listed, so a namespace being created meanwhile (its
/// record is stored before its store is made) is never taken for one left behind. Answers what
/// it removed.
pub async fn sweep_namespaces(
    settings: &StoreSettings,
    live: impl Fn() -> Pin<Box<dyn Future<Output = Result<Vec<(String, String)>, StoreError>> + Send>>,
) -> Result<Vec<String>, StoreError> {
    match settings.store_url()? {
        StoreUrl::Memory => Ok(Vec::new()),
        StoreUrl::Postgres(url) => sql::sweep_schemas(&url, live).await,
        StoreUrl::Sqlite { path, .. } => sweep_sqlite_files(&SqliteFile::of(&path), live).await,
    }
}

async fn sweep_sqlite_files(
    file: &SqliteFile,
    live: impl Fn() -> Pin<Box<dyn Future<Output = Result<Vec<(String, String)>, StoreError>> + Send>>,
) -> Result<Vec<String>, StoreError> {
    let prefix = file.prefix();
    let listed_dir = if file.dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        file.dir.clone()
    };
    let found: Vec<String> = match std::fs::read_dir(&listed_dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&prefix))
            .collect(),
        Err(_) => return Ok(Vec::new()),
    };
    let keep: HashSet<String> = live()
        .await?
        .iter()
        .map(|(name, id)| file.name_of(name, id))
        .collect();
    let mut removed = Vec::new();
    for name in found {
        let base = name
            .strip_suffix("-wal")
            .or_else(|| name.strip_suffix("-shm"))
            .unwrap_or(&name);
        if !keep.contains(base) && base.ends_with(&file.ext) {
            remove_file(&file.dir.join(&name))?;
            removed.push(name);
        }
    }
    Ok(removed)
}
