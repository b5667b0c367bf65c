//! The memory store's namespaces and run-time clients.

use async_trait::async_trait;

use super::*;

impl MemoryStore {
    fn registry(&self) -> Result<MutexGuard<'_, RegistryState>, StoreError> {
        self.registry
            .lock()
            .map_err(|_| StoreError::Internal("memory store lock poisoned".into()))
    }
}

#[async_trait]
impl Registry for MemoryStore {
    async fn create_namespace(&self, namespace: &NamespaceRecord) -> Result<bool, StoreError> {
        let mut registry = self.registry()?;
        if registry.namespaces.contains_key(&namespace.name) {
            return Ok(false);
        }
        registry
            .namespaces
            .insert(namespace.name.clone(), namespace.clone());
        Ok(true)
    }

    async fn namespaces(&self) -> Result<Vec<NamespaceRecord>, StoreError> {
        Ok(self.registry()?.namespaces.values().cloned().collect())
    }

    async fn delete_namespace(&self, name: &str, id: &str) -> Result<bool, StoreError> {
        let mut registry = self.registry()?;
        if registry.namespaces.get(name).is_none_or(|n| n.id != id) {
            return Ok(false);
        }
        registry.namespaces.remove(name);
        registry.clients.retain(|_, c| c.namespace != name);
        Ok(true)
    }

    async fn register_client(&self, client: &ClientRecord) -> Result<Registered, StoreError> {
        let mut registry = self.registry()?;
        if let Some(owner) = registry.clients.get(&client.client_id) {
            return Ok(Registered::Taken(owner.namespace.clone()));
        }
        if client.namespace != DEFAULT_NAMESPACE
            && !registry.namespaces.contains_key(&client.namespace)
        {
            return Ok(Registered::NoNamespace);
        }
        registry
            .clients
            .insert(client.client_id.clone(), client.clone());
        Ok(Registered::Done)
    }

    async fn update_client(
        &self,
        client: &ClientRecord,
        previous_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut registry = self.registry()?;
        match registry.clients.get_mut(&client.client_id) {
            Some(stored)
                if stored.namespace == client.namespace && stored.updated_at_ms == previous_ms =>
            {
                *stored = client.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        Ok(self.registry()?.clients.get(client_id).cloned())
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        Ok(self.registry()?.clients.values().cloned().collect())
    }

    async fn delete_client(&self, namespace: &str, client_id: &str) -> Result<bool, StoreError> {
        let mut registry = self.registry()?;
        if registry
            .clients
            .get(client_id)
            .is_some_and(|c| c.namespace == namespace)
        {
            registry.clients.remove(client_id);
            return Ok(true);
        }
        Ok(false)
    }
}
