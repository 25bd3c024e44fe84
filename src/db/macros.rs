//! The macros that run one query body on either engine: [`on!`] (a pool or
//! a transaction), [`on_db!`] (reads), [`on_writer!`] (single statements
//! that write), [`on_tx!`] (inside a `Tx`) and [`dialect!`] (SQL text that
//! must differ).

/// Runs `$body` with `$e` bound to an executor for `$on` (anything that is
/// `Into<On>`): a pool, or the transaction's connection. Write the body
/// once, passing `$e` (or `&mut *$e` to use it twice) as the executor.
#[macro_export]
macro_rules! on {
    ($on:expr, $e:ident => $body:expr) => {
        match $crate::db::On::from($on) {
            $crate::db::On::Read($crate::db::Db::Sqlite { reader: $e, .. }) => $body,
            $crate::db::On::Read($crate::db::Db::Postgres($e, _)) => $body,
            $crate::db::On::Write($crate::db::Db::Sqlite { writer, .. }) => {
                match writer.hold().await {
                    Err(err) => Err(err),
                    Ok(mut held) => {
                        let $e = &mut *held;
                        $body
                    }
                }
            }
            $crate::db::On::Write($crate::db::Db::Postgres($e, _)) => $body,
            $crate::db::On::Tx(tx) => match tx.flush().await {
                Err(err) => Err(err),
                Ok(()) => match &mut tx.conn {
                    $crate::db::Conn::Sqlite(tx) => {
                        let $e = &mut **tx;
                        $body
                    }
                    $crate::db::Conn::Postgres(tx) => {
                        let $e = &mut **tx;
                        $body
                    }
                },
            },
        }
    };
}

/// Runs `$body` with `$pool` bound to the engine's read pool.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { reader: $pool, .. } => $body,
            $crate::db::Db::Postgres($pool, _) => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to what may write: the PostgreSQL pool, or
/// SQLite's writer connection (held for the statement; use `$pool` once).
#[macro_export]
macro_rules! on_writer {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { writer, .. } => match writer.hold().await {
                Err(err) => Err(err),
                Ok(mut held) => {
                    let $pool = &mut *held;
                    $body
                }
            },
            $crate::db::Db::Postgres($pool, _) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the open transaction `$tx` (a
/// `&mut Tx`), after writing the rows it keeps; use `&mut **$conn` as the
/// executor.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {{
        let tx: &mut $crate::db::Tx = $tx;
        match tx.flush().await {
            Err(err) => Err(err),
            Ok(()) => match &mut tx.conn {
                $crate::db::Conn::Sqlite($conn) => $body,
                $crate::db::Conn::Postgres($conn) => $body,
            },
        }
    }};
}

/// Expands to the first expression on SQLite and the second on PostgreSQL
/// (`$db` is a `Db` or a `Tx`): the one construct for SQL text that must
/// differ between the engines.
#[macro_export]
macro_rules! dialect {
    ($db:expr, sqlite: $sqlite:expr, postgres: $postgres:expr $(,)?) => {
        if $db.is_sqlite() { $sqlite } else { $postgres }
    };
}
