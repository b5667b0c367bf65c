//! The admin API's part of the OpenAPI document, derived: each handler's `#[utoipa::path]`
//! gives its operation, the DTOs' `ToSchema` their schemas. [`Shared`] adds what every admin
//! operation has alike: the `admin` tag, the bearer token, and the 401, 503 and (with a body)
//! 413 answers.
//! `/admin/namespaces` is described the same way beside its handlers (`namespace::admin`).
//!
//! A call with a `Gateway-Namespace` header acts within that namespace; the header is left out
//! of each operation, as every admin operation takes it alike.

use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi as _, PartialSchema, ToSchema};

use super::{ErrorBody, clients, journal, notifications, payments, real, receiver, scenarios};
use crate::api::openapi::ADMIN_AUTH;

/// The admin operations under `/admin` this layer serves.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        payments::seed,
        payments::list,
        payments::read,
        payments::complete,
        payments::fail,
        notifications::list,
        notifications::redeliver,
        notifications::cancel,
        notifications::advance,
        receiver::list,
        receiver::fail_next,
        scenarios::list,
        scenarios::add,
        scenarios::remove,
        journal::list,
        journal::clear,
        journal::count,
        real::recordings,
        real::drift,
        real::modes,
        real::set_modes,
        clients::register,
        clients::list,
        clients::show,
        clients::change,
        clients::remove,
        super::reset,
    ),
    modifiers(&Shared)
)]
struct AdminApi;

/// The admin API's operations and the schemas they use.
pub fn document() -> OpenApi {
    AdminApi::openapi()
}

/// What every admin operation has alike: the `admin` tag (in place of the module name utoipa
/// would give), the admin bearer token, and the answers any of them can give: 401 for a missing
/// or wrong token, 503 when the store fails, and, for one that takes a body (`AdminBody`), 413
/// for a body over `server.body_limit_bytes`.
pub struct Shared;

impl Modify for Shared {
    fn modify(&self, doc: &mut OpenApi) {
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                        .build(),
                )
                .build()
        };
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                operation.tags = Some(vec!["admin".to_owned()]);
                operation.security = Some(vec![SecurityRequirement::new(
                    ADMIN_AUTH,
                    Vec::<String>::new(),
                )]);
                let responses = &mut operation.responses.responses;
                responses.insert(
                    "401".to_owned(),
                    error("Missing or wrong bearer token, or the admin API is off").into(),
                );
                responses.insert("503".to_owned(), error("The store failed").into());
                if operation.request_body.is_some() {
                    responses.insert(
                        "413".to_owned(),
                        error("The body is larger than server.body_limit_bytes").into(),
                    );
                }
            }
        }
        // Every error answer refers to it, including the two above.
        let components = doc.components.get_or_insert_with(Default::default);
        components
            .schemas
            .insert(ErrorBody::name().into_owned(), ErrorBody::schema());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::protocol::Endpoint;

    #[test]
    fn the_api_name_schema_lists_exactly_the_names_the_gateway_reads() {
        let schema = serde_json::to_value(<Endpoint as utoipa::PartialSchema>::schema()).unwrap();

        let names: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();

        assert_eq!(names, Endpoint::ALL.map(Endpoint::name));
    }

    #[test]
    fn every_admin_operation_takes_the_bearer_token_and_is_tagged_admin() {
        let doc = serde_json::to_value(super::document()).unwrap();

        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() > 15, "{}", paths.len());
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                assert_eq!(op["tags"][0], "admin", "{method} {path}");
                assert!(op["security"][0].get("adminToken").is_some());
                assert!(op["responses"].get("401").is_some(), "{method} {path}");
                assert!(op["operationId"].is_string(), "{method} {path}");
            }
        }
    }
}
