//! The modes in force: a default and routes per API and optionally per client, first match
//! wins. Set from `[real]` at start-up and replaced at run time through the admin API.

use std::sync::RwLock;

use serde::Serialize;

use crate::config::{Mode, ModeRoute};
use crate::protocol::Endpoint;

/// The mode table.
#[derive(Debug)]
pub struct Modes {
    table: RwLock<Table>,
}

/// A default and the routes tried before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The mode when no route matches.
    pub default: Mode,
    /// Tried in order.
    pub routes: Vec<ModeRoute>,
}

/// A route as the admin API shows it, written as in `[[real.routes]]`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShownRoute {
    /// The API name.
    #[schema(value_type = crate::protocol::Endpoint)]
    pub api: &'static str,
    /// Only this caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Its mode.
    pub mode: Mode,
}

impl Modes {
    /// The table from config.
    pub fn new(default: Mode, routes: Vec<ModeRoute>) -> Self {
        Self {
            table: RwLock::new(Table { default, routes }),
        }
    }

    /// The mode for `endpoint` called by `client_id`.
    pub fn mode_for(&self, endpoint: Endpoint, client_id: &str) -> Mode {
        let Ok(table) = self.table.read() else {
            return Mode::Mock;
        };
        table
            .routes
            .iter()
            .find(|r| {
                r.endpoint == endpoint && r.client_id.as_deref().is_none_or(|id| id == client_id)
            })
            .map_or(table.default, |r| r.mode)
    }

    /// Replaces the table.
    pub fn set(&self, table: Table) {
        if let Ok(mut current) = self.table.write() {
            *current = table;
        }
    }

    /// The table in force.
    pub fn table(&self) -> Table {
        self.table
            .read()
            .map(|t| t.clone())
            .unwrap_or_else(|_| Table {
                default: Mode::Mock,
                routes: Vec::new(),
            })
    }

    /// The routes as the admin API shows them.
    pub fn shown(&self) -> (Mode, Vec<ShownRoute>) {
        let table = self.table();
        let routes = table
            .routes
            .into_iter()
            .map(|r| ShownRoute {
                api: r.endpoint.name(),
                client_id: r.client_id,
                mode: r.mode,
            })
            .collect();
        (table.default, routes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_route_decides_else_the_default() {
        let modes = Modes::new(
            Mode::Mock,
            vec![
                ModeRoute {
                    endpoint: Endpoint::InquiryPayment,
                    client_id: Some("A".into()),
                    mode: Mode::Replay,
                },
                ModeRoute {
                    endpoint: Endpoint::InquiryPayment,
                    client_id: None,
                    mode: Mode::Proxy,
                },
            ],
        );
        assert_eq!(modes.mode_for(Endpoint::InquiryPayment, "A"), Mode::Replay);
        assert_eq!(modes.mode_for(Endpoint::InquiryPayment, "B"), Mode::Proxy);
        assert_eq!(modes.mode_for(Endpoint::NotifyPushPayment, "A"), Mode::Mock);
    }
}
