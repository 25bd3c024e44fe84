//! Exports of a filtered list (CSV or NDJSON), streamed in keyset pages:
//! the next page is read only when the client has taken the previous one,
//! so memory stays at one page however many rows match.

use std::future::Future;

use actix_web::{HttpResponse, http::header, web};
use futures_util::{Stream, stream};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiError, pagination::KeysetCursor};

/// The rows read per page of an export.
pub const EXPORT_BATCH: i64 = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Ndjson,
}

/// What an export reads and how it writes it.
pub trait Pages: 'static {
    type Row;
    /// Up to `limit + 1` rows after `after` (the extra row says another page follows).
    fn page(
        &self,
        after: Option<KeysetCursor>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Self::Row>, ApiError>>;
    /// The position of a row, to read on after it.
    fn key(&self, row: &Self::Row) -> KeysetCursor;
    /// The rows as bytes; `first` is the first chunk (the CSV header goes there).
    fn render(&self, rows: &[Self::Row], first: bool) -> Vec<u8>;
}

/// One chunk per page of [`EXPORT_BATCH`] rows. A failure mid-stream ends the
/// body early (the status is already sent) and is logged.
pub fn stream<P: Pages>(pages: P) -> impl Stream<Item = Result<web::Bytes, actix_web::Error>> {
    struct State<P> {
        pages: P,
        next: Option<KeysetCursor>,
        first: bool,
        done: bool,
    }
    let start = State {
        pages,
        next: None,
        first: true,
        done: false,
    };
    stream::unfold(start, |mut st| async move {
        if st.done {
            return None;
        }
        let mut rows = match st.pages.page(st.next.take(), EXPORT_BATCH).await {
            Ok(rows) => rows,
            Err(err) => {
                tracing::error!(%err, "export failed mid-stream");
                st.done = true;
                return Some((
                    Err(actix_web::error::ErrorInternalServerError("export failed")),
                    st,
                ));
            }
        };
        let more = rows.len() as i64 > EXPORT_BATCH;
        rows.truncate(EXPORT_BATCH as usize);
        st.next = if more {
            rows.last().map(|r| st.pages.key(r))
        } else {
            None
        };
        let chunk = st.pages.render(&rows, st.first);
        st.first = false;
        st.done = !more;
        Some((Ok(web::Bytes::from(chunk)), st))
    })
}

/// `200` with the export as a download named `{name}.csv` or `{name}.ndjson`.
pub fn attachment(format: ExportFormat, name: &str, pages: impl Pages) -> HttpResponse {
    let (content_type, extension) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Ndjson => ("application/x-ndjson", "ndjson"),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{extension}\""),
        ))
        .streaming(stream(pages))
}

/// Each item as one line of JSON.
pub fn ndjson<T: serde::Serialize>(items: impl Iterator<Item = T>) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        serde_json::to_writer(&mut out, &item).expect("resources serialize");
        out.push(b'\n');
    }
    out
}

/// CSV records, each cell made safe to open in a spreadsheet
/// (see `crate::domain::csv_cell`), with `header` first when given.
pub fn csv<const N: usize>(
    header: Option<impl IntoIterator<Item = &'static str>>,
    records: impl Iterator<Item = [String; N]>,
) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if let Some(header) = header {
        writer.write_record(header).expect("writing to memory");
    }
    for record in records {
        writer
            .write_record(record.map(crate::domain::csv_cell::neutralise))
            .expect("writing to memory");
    }
    writer.into_inner().expect("flushing memory")
}
