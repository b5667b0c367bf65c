//! Namespaces and run-time clients, in the default store: every replica on one PostgreSQL sees
//! the same set, and a restart keeps them. A namespace's own payments, notifications and
//! receiver record live in a store of its own (see [`super::open_namespace`]).

use async_trait::async_trait;

use super::StoreError;
use crate::domain::namespace::{ClientRecord, NamespaceRecord};

/// Why a client could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// It is stored.
    Done,
    /// A client with this id exists, in the namespace named.
    Taken(String),
    /// The namespace it names does not exist (it was deleted or ran out meanwhile).
    NoNamespace,
}

/// The namespaces and the run-time clients.
#[async_trait]
pub trait Registry: Send + Sync + 'static {
    /// Stores a new namespace; `false` when one with its name exists.
    async fn create_namespace(&self, namespace: &NamespaceRecord) -> Result<bool, StoreError>;

    /// Every namespace, by name.
    async fn namespaces(&self) -> Result<Vec<NamespaceRecord>, StoreError>;

    /// Deletes the namespace `name` whose id is `id`, and the clients it owns; `false` when
    /// there was none (another replica deleted it, and it may have been created again since).
    async fn delete_namespace(&self, name: &str, id: &str) -> Result<bool, StoreError>;

    /// Registers a client, unless its id is taken in any namespace or its namespace is gone.
    async fn register_client(&self, client: &ClientRecord) -> Result<Registered, StoreError>;

    /// Replaces a client's registration, if it is still the one changed at `previous_ms` (its
    /// `updated_at_ms` when read); `false` when it is not in `client.namespace`, or another
    /// change came first, so two key rotations racing on two replicas never lose one.
    async fn update_client(
        &self,
        client: &ClientRecord,
        previous_ms: i64,
    ) -> Result<bool, StoreError>;

    /// The run-time client with this id, in whichever namespace.
    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError>;

    /// Every run-time client, of every namespace, by id.
    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError>;

    /// Deletes a client of `namespace`; `false` when it has none with this id.
    async fn delete_client(&self, namespace: &str, client_id: &str) -> Result<bool, StoreError>;
}
