//! The writer's transactions, folded commits and group commit, on a file database.

use super::*;

async fn writer() -> (Writer, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("rapport-writer-{}.db", uuid::Uuid::now_v7()));
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let writer = Writer::open(&options).await.unwrap();
    let mut held = writer.hold().await.unwrap();
    sqlx::raw_sql("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
        .execute(&mut *held)
        .await
        .unwrap();
    drop(held);
    (writer, path)
}

async fn values(writer: &Writer) -> Vec<i64> {
    let mut held = writer.hold().await.unwrap();
    sqlx::query_scalar("SELECT v FROM t ORDER BY v")
        .fetch_all(&mut *held)
        .await
        .unwrap()
}

async fn insert(tx: &mut SqliteTx, sql: &str) -> Result<(), sqlx::Error> {
    tx.open().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Inserts `sql`'s rows with the transaction's ending, and waits for
/// the commit.
async fn finish(mut tx: SqliteTx, sql: &str) -> Result<(), sqlx::Error> {
    let ending = tx.ending();
    insert(&mut tx, &format!("{sql}; {ending}")).await?;
    tx.committed().await
}

/// Starts a transaction in a task of its own, and returns once it is
/// waiting for the connection.
async fn waiting_begin(writer: &Writer) -> tokio::task::JoinHandle<SqliteTx> {
    let before = writer.waiting.load(Ordering::Acquire);
    let task = tokio::spawn({
        let writer = writer.clone();
        async move { writer.begin().await.unwrap() }
    });
    while writer.waiting.load(Ordering::Acquire) == before {
        tokio::task::yield_now().await;
    }
    task
}

#[tokio::test]
async fn a_commit_folded_into_the_last_statement_keeps_the_writes() {
    let (writer, path) = writer().await;
    let mut tx = writer.begin().await.unwrap();
    insert(&mut tx, "INSERT INTO t VALUES (1)").await.unwrap();
    finish(tx, "INSERT INTO t VALUES (2)").await.unwrap();
    assert_eq!(values(&writer).await, [1, 2]);
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn a_dropped_transaction_rolls_back_before_the_next_write() {
    let (writer, path) = writer().await;
    let mut tx = writer.begin().await.unwrap();
    insert(&mut tx, "INSERT INTO t VALUES (1)").await.unwrap();
    drop(tx);
    let mut tx = writer.begin().await.unwrap();
    insert(&mut tx, "INSERT INTO t VALUES (2)").await.unwrap();
    // The commit's batch fails halfway: COMMIT never runs, and the
    // rollback takes every row of the transaction with it.
    let failed = finish(tx, "INSERT INTO t VALUES (3); INSERT INTO t VALUES (2)").await;
    assert!(failed.is_err());
    assert_eq!(values(&writer).await, Vec::<i64>::new());
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn writes_that_wait_share_one_commit_and_answer_after_it() {
    let (writer, path) = writer().await;
    let first = writer.begin().await.unwrap();
    let second = waiting_begin(&writer).await;
    assert!(
        first.writer.waiting.load(Ordering::Acquire) > 0,
        "a write waits: the first leaves its commit to it"
    );
    let first = tokio::spawn(finish(first, "INSERT INTO t VALUES (1)"));
    let second = second.await.unwrap();
    assert!(second.joined);
    // Not committed yet: another connection does not see the first row.
    let other = SqliteConnectOptions::new().filename(&path);
    let mut other = SqliteConnection::connect_with(&other).await.unwrap();
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert_eq!(seen, 0);
    assert!(!first.is_finished());
    finish(second, "INSERT INTO t VALUES (2)").await.unwrap();
    first.await.unwrap().unwrap();
    assert_eq!(values(&writer).await, [1, 2]);
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn a_failing_write_in_a_shared_commit_takes_only_its_own_rows() {
    let (writer, path) = writer().await;
    let first = writer.begin().await.unwrap();
    let second = waiting_begin(&writer).await;
    let first = tokio::spawn(finish(first, "INSERT INTO t VALUES (1)"));
    let second = second.await.unwrap();
    let failed = finish(second, "INSERT INTO t VALUES (2); INSERT INTO t VALUES (1)").await;
    assert!(failed.is_err());
    // The first write comes back for the connection and commits itself.
    first.await.unwrap().unwrap();
    assert_eq!(values(&writer).await, [1]);
    std::fs::remove_file(path).ok();
}

/// Writes a row in a transaction, then drops it on a thread with no
/// runtime, where its rollback cannot run.
async fn abandon_with_a_row(writer: &Writer) {
    let mut tx = writer.begin().await.unwrap();
    insert(&mut tx, "INSERT INTO t VALUES (1)").await.unwrap();
    std::thread::spawn(move || drop(tx)).join().unwrap();
}

#[tokio::test]
async fn a_transaction_dropped_without_a_runtime_is_rolled_back_by_the_next_begin() {
    let (writer, path) = writer().await;
    abandon_with_a_row(&writer).await;
    let tx = writer.begin().await.unwrap();
    finish(tx, "INSERT INTO t VALUES (2)").await.unwrap();
    assert_eq!(values(&writer).await, [2]);
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn a_statement_after_a_transaction_dropped_without_a_runtime_runs_on_its_own() {
    let (writer, path) = writer().await;
    abandon_with_a_row(&writer).await;
    let mut held = writer.hold().await.unwrap();
    sqlx::raw_sql("INSERT INTO t VALUES (2)")
        .execute(&mut *held)
        .await
        .unwrap();
    drop(held);
    assert_eq!(values(&writer).await, [2]);
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn a_closed_writer_refuses_writes() {
    let (writer, path) = writer().await;
    writer.close().await;
    assert!(writer.is_closed());
    assert!(matches!(writer.begin().await, Err(sqlx::Error::PoolClosed)));
    std::fs::remove_file(path).ok();
}
