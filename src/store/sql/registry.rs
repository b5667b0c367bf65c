//! Namespaces and run-time clients on SQLite and PostgreSQL: each a JSON document beside the
//! columns a statement decides by. Every write is one statement, so a race between replicas is
//! decided by the primary keys.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SqlStore, classify, is_unique_violation};
use crate::domain::namespace::{ClientRecord, DEFAULT_NAMESPACE, NamespaceRecord};
use crate::store::StoreError;
use crate::store::registry::{Registered, Registry};

fn stored<T: serde::de::DeserializeOwned>(row: &AnyRow, what: &str) -> Result<T, StoreError> {
    let doc: String = row.try_get("doc").map_err(classify)?;
    serde_json::from_str(&doc).map_err(|e| StoreError::Internal(format!("stored {what}: {e}")))
}

fn client_of(row: &AnyRow) -> Result<ClientRecord, StoreError> {
    Ok(ClientRecord {
        client_id: row.try_get("client_id").map_err(classify)?,
        namespace: row.try_get("namespace").map_err(classify)?,
        doc: stored(row, "client")?,
        updated_at_ms: row.try_get("updated_at_ms").map_err(classify)?,
    })
}

fn doc_of<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

#[async_trait]
impl Registry for SqlStore {
    async fn create_namespace(&self, namespace: &NamespaceRecord) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO namespaces (name, id, expires_at_ms, doc) VALUES ($1, $2, $3, $4)",
        )
        .bind(namespace.name.as_str())
        .bind(namespace.id.as_str())
        .bind(namespace.expires_at_ms)
        .bind(doc_of(namespace)?)
        .execute(&self.writer)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    async fn namespaces(&self) -> Result<Vec<NamespaceRecord>, StoreError> {
        let rows = sqlx::query("SELECT doc FROM namespaces ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter().map(|row| stored(row, "namespace")).collect()
    }

    async fn delete_namespace(&self, name: &str, id: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM namespaces WHERE name = $1 AND id = $2")
            .bind(name)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(classify)?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        // Its clients too, and any a registration racing the delete left behind.
        sqlx::query(
            "DELETE FROM clients WHERE namespace = $1 OR (namespace <> $2 \
             AND namespace NOT IN (SELECT name FROM namespaces))",
        )
        .bind(name)
        .bind(DEFAULT_NAMESPACE)
        .execute(&self.writer)
        .await
        .map_err(classify)?;
        Ok(true)
    }

    async fn register_client(&self, client: &ClientRecord) -> Result<Registered, StoreError> {
        // One statement: the namespace's existence and the id's uniqueness are decided together.
        let inserted = sqlx::query(
            "INSERT INTO clients (client_id, namespace, doc, updated_at_ms) \
             SELECT $1, $2, $3, $4 WHERE $2 = $5 OR EXISTS (SELECT 1 FROM namespaces WHERE name = $2)",
        )
        .bind(client.client_id.as_str())
        .bind(client.namespace.as_str())
        .bind(doc_of(&client.doc)?)
        .bind(client.updated_at_ms)
        .bind(DEFAULT_NAMESPACE)
        .execute(&self.writer)
        .await;
        match inserted {
            Ok(done) if done.rows_affected() == 0 => Ok(Registered::NoNamespace),
            Ok(_) => Ok(Registered::Done),
            Err(e) if is_unique_violation(&e) => {
                let owner = self.client(&client.client_id).await?;
                Ok(Registered::Taken(
                    owner.map(|c| c.namespace).unwrap_or_default(),
                ))
            }
            Err(e) => Err(classify(e)),
        }
    }

    async fn update_client(
        &self,
        client: &ClientRecord,
        previous_ms: i64,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE clients SET doc = $1, updated_at_ms = $2 \
             WHERE client_id = $3 AND namespace = $4 AND updated_at_ms = $5",
        )
        .bind(doc_of(&client.doc)?)
        .bind(client.updated_at_ms)
        .bind(client.client_id.as_str())
        .bind(client.namespace.as_str())
        .bind(previous_ms)
        .execute(&self.writer)
        .await
        .map_err(classify)?;
        Ok(updated.rows_affected() > 0)
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, namespace, doc, updated_at_ms FROM clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        row.as_ref().map(client_of).transpose()
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT client_id, namespace, doc, updated_at_ms FROM clients ORDER BY client_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter().map(client_of).collect()
    }

    async fn delete_client(&self, namespace: &str, client_id: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM clients WHERE client_id = $1 AND namespace = $2")
            .bind(client_id)
            .bind(namespace)
            .execute(&self.writer)
            .await
            .map_err(classify)?;
        Ok(deleted.rows_affected() > 0)
    }
}
