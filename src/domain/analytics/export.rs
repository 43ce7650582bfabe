//! Usage exports: rollup rows of a range as CSV or a JSON array, streamed. Stored rows come
//! from the database a row at a time and pending rows (this process's current minutes) are
//! merged in key order, so a year of minutes never sits in memory.

use super::pending::PendingRollups;
use super::query::Range;
use super::rollup::{RollupKey, RollupSums, is_failure};
use crate::db::{self, Db, rollups::RollupFilter};
use crate::domain::from_millis;
use bytes::Bytes;
use tokio::sync::mpsc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn parse(text: Option<&str>) -> Option<ExportFormat> {
        match text.map(str::trim) {
            None | Some("") | Some("csv") => Some(ExportFormat::Csv),
            Some("json") => Some(ExportFormat::Json),
            Some(_) => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

const COLUMNS: [&str; 15] = [
    "bucket_start",
    "key_id",
    "api_id",
    "owner_user_id",
    "endpoint",
    "code",
    "status_class",
    "requests",
    "errors",
    "request_bytes",
    "response_bytes",
    "mean_latency_ms",
    "p50_latency_ms",
    "p95_latency_ms",
    "p99_latency_ms",
];

/// A CSV field: quoted when it holds a separator, quote or line break; a leading character a
/// spreadsheet would run as a formula is defused with a quote mark.
fn csv_field(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

fn ms(us: Option<i64>) -> Option<f64> {
    us.map(|us| (us as f64).round() / 1000.0)
}

fn id(v: i64) -> Option<i64> {
    (v != 0).then_some(v)
}

/// One row as text in `format` (without separators between JSON rows).
fn render_row(format: ExportFormat, k: &RollupKey, s: &RollupSums) -> String {
    let start = from_millis(k.bucket_start)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let errors = if is_failure(&k.code, k.status_class) {
        s.requests
    } else {
        0
    };
    let mean = (s.requests > 0).then(|| s.latency_sum_us / s.requests);
    let pct = |q| ms(s.latency.quantile_us(q));
    match format {
        ExportFormat::Json => serde_json::json!({
            "bucket_start": start,
            "key_id": id(k.key_id),
            "api_id": id(k.api_id),
            "owner_user_id": id(k.owner_user_id),
            "endpoint": k.endpoint,
            "code": k.code,
            "status_class": k.status_class,
            "requests": s.requests,
            "errors": errors,
            "request_bytes": s.request_bytes,
            "response_bytes": s.response_bytes,
            "mean_latency_ms": ms(mean),
            "p50_latency_ms": pct(0.50),
            "p95_latency_ms": pct(0.95),
            "p99_latency_ms": pct(0.99),
        })
        .to_string(),
        ExportFormat::Csv => {
            let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
            let optf = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
            [
                start,
                opt(id(k.key_id)),
                opt(id(k.api_id)),
                opt(id(k.owner_user_id)),
                csv_field(&k.endpoint),
                csv_field(&k.code),
                k.status_class.to_string(),
                s.requests.to_string(),
                errors.to_string(),
                s.request_bytes.to_string(),
                s.response_bytes.to_string(),
                optf(ms(mean)),
                optf(pct(0.50)),
                optf(pct(0.95)),
                optf(pct(0.99)),
            ]
            .join(",")
        }
    }
}

/// Sends rendered rows down the response body's channel.
struct Sink {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    format: ExportFormat,
    rows: u64,
}

impl Sink {
    async fn send(&self, text: String) -> bool {
        self.tx.send(Ok(Bytes::from(text))).await.is_ok()
    }

    async fn start(&self) -> bool {
        match self.format {
            ExportFormat::Csv => self.send(format!("{}\n", COLUMNS.join(","))).await,
            ExportFormat::Json => self.send("[".to_string()).await,
        }
    }

    async fn row(&mut self, k: &RollupKey, s: &RollupSums) -> bool {
        let line = render_row(self.format, k, s);
        let text = match self.format {
            ExportFormat::Csv => format!("{line}\n"),
            ExportFormat::Json if self.rows == 0 => format!("\n{line}"),
            ExportFormat::Json => format!(",\n{line}"),
        };
        self.rows += 1;
        self.send(text).await
    }

    async fn end(&self) -> bool {
        match self.format {
            ExportFormat::Csv => true,
            ExportFormat::Json => self.send("\n]\n".to_string()).await,
        }
    }
}

/// The export's body: a channel a task fills as rows arrive (64 chunks of backpressure).
/// A database failure part-way ends the body early (logged); the truncated CSV or JSON shows
/// the reader it is incomplete.
pub async fn stream(
    db: &Db,
    pending: &PendingRollups,
    range: Range,
    filter: RollupFilter,
    format: ExportFormat,
) -> mpsc::Receiver<Result<Bytes, std::io::Error>> {
    // Reports' rule: stored and pending rows are read with flushes held off, so each row
    // counts once. The statement's snapshot is taken with its first row; the gate is let go
    // then, so a long download never holds up the usage writer.
    let gate = pending.reading_owned().await;
    let g = range.granularity;
    let live = pending.rows(g, range.from_ms, range.to_ms, &filter);
    let (tx, rx) = mpsc::channel(64);
    let (rows_tx, mut rows) = mpsc::channel(256);
    let db = db.clone();
    let reading = tokio::spawn(async move {
        db::rollups::export_rows(&db, g, range.from_ms, range.to_ms, &filter, rows_tx).await
    });
    tokio::spawn(async move {
        let mut gate = Some(gate);
        let mut live = live.into_iter().peekable();
        let mut sink = Sink {
            tx,
            format,
            rows: 0,
        };
        if !sink.start().await {
            return;
        }
        while let Some((key, mut sums)) = rows.recv().await {
            gate.take();
            while let Some((k, s)) = live.next_if(|(k, _)| *k < key) {
                if !sink.row(&k, &s).await {
                    return;
                }
            }
            if let Some((_, s)) = live.next_if(|(k, _)| *k == key) {
                sums.add(&s);
            }
            if !sink.row(&key, &sums).await {
                return;
            }
        }
        drop(gate);
        match reading.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "usage export failed part-way; the body ends early");
                return;
            }
            Err(_) => return,
        }
        for (k, s) in live {
            if !sink.row(&k, &s).await {
                return;
            }
        }
        sink.end().await;
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("GET /a"), "GET /a");
        assert_eq!(csv_field("GET /a,b"), "\"GET /a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-1+2,3"), "\"'-1+2,3\"");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn formats_parse_with_csv_by_default() {
        assert_eq!(ExportFormat::parse(None), Some(ExportFormat::Csv));
        assert_eq!(ExportFormat::parse(Some("json")), Some(ExportFormat::Json));
        assert_eq!(ExportFormat::parse(Some("xml")), None);
    }
}
