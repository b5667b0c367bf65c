//! A schema of its own on the test PostgreSQL, so tests sharing the server never see each
//! other's rows.

use std::sync::atomic::{AtomicU64, Ordering};

/// Creates a fresh schema named after `prefix` and this process, and answers `base` (the
/// server's URL) with that schema as the search path.
pub async fn create(base: &str, prefix: &str) -> String {
    static SCHEMAS: AtomicU64 = AtomicU64::new(0);
    let schema = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        SCHEMAS.fetch_add(1, Ordering::Relaxed)
    );
    let pool = sqlx::postgres::PgPool::connect(base)
        .await
        .expect("GATEWAY_TEST_POSTGRES_URL answers");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .expect("a test schema");
    pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}
