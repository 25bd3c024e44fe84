//! What a database error means to the API, on either engine.

/// True when the error is a unique-constraint violation on either engine.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

/// True when the database could not be reached or could not take the work
/// right now (down, restarting, out of connections, locked, over the
/// statement timeout, or rolled back to break a deadlock): the request may
/// succeed if retried, so the client is told 503, not 500.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.as_ref() {
                // SQLite: SQLITE_BUSY and SQLITE_LOCKED (and their extended codes).
                c if c
                    .parse::<i64>()
                    .is_ok_and(|n| n & 0xff == 5 || n & 0xff == 6) =>
                {
                    true
                }
                // PostgreSQL: connection exceptions, insufficient resources,
                // statement timeout or cancel, server shutting down or starting.
                c => {
                    c.starts_with("08")
                        || c.starts_with("53")
                        || matches!(c, "57014" | "57P01" | "57P02" | "57P03")
                        // A deadlock or serialisation failure: the database
                        // chose this transaction to roll back; a retry runs
                        // on its own.
                        || matches!(c, "40P01" | "40001")
                }
            }
        }
        _ => false,
    }
}

/// True when the error is a unique-constraint violation of a row of `table`:
/// for a statement that writes to several tables with unique keys (a write's
/// kept rows with its idempotency key). PostgreSQL names the table; SQLite
/// names its columns in the message (`UNIQUE constraint failed: table.column`).
pub fn is_unique_violation_on(err: &sqlx::Error, table: &str) -> bool {
    err.as_database_error().is_some_and(|e| {
        e.is_unique_violation()
            && (e.table() == Some(table) || e.message().contains(&format!(": {table}.")))
    })
}

/// True when the error is a foreign-key violation on either engine.
pub fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_foreign_key_violation())
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;

    #[tokio::test]
    async fn a_unique_violation_is_told_apart_by_its_table() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE contacts (email TEXT);
             CREATE UNIQUE INDEX contacts_email_live ON contacts (email);
             CREATE TABLE idempotency_keys (principal TEXT, key TEXT, PRIMARY KEY (principal, key));
             INSERT INTO contacts VALUES ('a@x');
             INSERT INTO idempotency_keys VALUES ('p', 'k')",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let email = sqlx::raw_sql("INSERT INTO contacts VALUES ('a@x')")
            .execute(&mut conn)
            .await
            .unwrap_err();
        let key = sqlx::raw_sql("INSERT INTO idempotency_keys VALUES ('p', 'k')")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(is_unique_violation_on(&email, "contacts"));
        assert!(!is_unique_violation_on(&email, "idempotency_keys"));
        assert!(is_unique_violation_on(&key, "idempotency_keys"));
        assert!(!is_unique_violation_on(&key, "contacts"));
    }
}
