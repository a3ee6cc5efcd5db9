//! The retention function: runs on a schedule (EventBridge), no HTTP. Its handler deletes events
//! past `CAIRN_RETENTION_DAYS` in bounded batches and answers what it deleted.

use lambda_runtime::LambdaEvent;
use shared::App;

/// Handles one scheduled invocation (the event's content is not used).
pub async fn handle(
    app: &App,
    _event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    let report = shared::retention::run(&app.pool, app.config.retention_days)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "retention failed");
            e
        })?;
    Ok(serde_json::to_value(report)?)
}
