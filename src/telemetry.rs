use tracing_subscriber::{EnvFilter, fmt};

/// Logs to stdout, as text or (with `RAPPORT_LOG_FORMAT=json`) JSON lines.
pub fn init(filter: &str, json: bool) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
