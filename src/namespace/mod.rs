//! Namespaces: many CI jobs share one gateway without seeing each other
//! ([docs/namespaces.md](../../docs/namespaces.md)). A namespace owns its clients, payments,
//! risk reports, notifications and attempts, receiver record, rules, journal and clock; its
//! payments and notifications live in a store of its own beside the default one (a SQLite file,
//! a PostgreSQL schema), so deleting it, or its time to live running out, removes all of it at
//! once, and the default namespace's tables and statements are exactly what they were.
//!
//! [`Hub`] holds the namespaces this process has open, each an [`AppState`] of its own behind
//! the very router the default namespace uses; [`dispatch`] sends a request to its namespace (a
//! signed request by its Client-Id, an admin call by its `Gateway-Namespace` header); [`admin`]
//! is `/admin/namespaces`; [`Hub::sync`] keeps a replica in step with the store.

pub mod admin;
mod dispatch;
mod hub;

pub use dispatch::{HEADER, dispatch};
pub use hub::{Hub, Open};

/// Why a name cannot name a namespace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Not 1 to 32 lowercase letters, digits and dashes, starting with a letter or digit.
    #[error(
        "namespace name {0:?} must be 1 to 32 lowercase letters, digits and dashes, \
         starting with a letter or digit"
    )]
    Form(String),
    /// `default`, which the default namespace holds.
    #[error("namespace name \"default\" is the default namespace's")]
    Default,
}

/// Whether `name` may name a namespace: 1 to 32 lowercase ASCII letters, digits and dashes,
/// starting with a letter or digit, and not `default`. It becomes part of a file name and a
/// PostgreSQL schema name, so nothing else is allowed.
pub fn check_name(name: &str) -> Result<(), NameError> {
    let valid = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-');
    if !valid {
        return Err(NameError::Form(name.to_owned()));
    }
    if name == crate::domain::namespace::DEFAULT_NAMESPACE {
        return Err(NameError::Default);
    }
    Ok(())
}

/// The JSON 403 of a token that does not reach the namespace `name`.
fn not_reached(name: &str) -> crate::api::admin::AdminError {
    crate::api::admin::AdminError::new(
        axum::http::StatusCode::FORBIDDEN,
        format!("this token does not reach namespace {name}: use its own token or the admin token"),
    )
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names_are_lowercase_letters_digits_and_dashes_up_to_32() {
        for good in ["ci-1", "shard-07", "a", &"x".repeat(32), "9lives"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-x",
            "Ci",
            "a_b",
            "a b",
            "a/b",
            "ä",
            "default",
            &"x".repeat(33),
            "x;drop",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
