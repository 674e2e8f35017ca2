//! The AWS SDK configuration both functions share. The SDK's defaults bound only the TCP connect:
//! an endpoint that accepts and never answers would hold an invocation until Lambda's own timeout
//! kills it. Every request is bounded here so such a fault fails fast, as a transient error, and the
//! platform retries the event.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;

/// The production bounds. A whole operation, its retries included, takes at most a minute: well
/// inside the functions' default timeouts (ingest 300 s, roll-up 900 s).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        // Time to the first byte of a response; bodies are guarded by stalled-stream protection.
        .read_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(20))
        .operation_timeout(Duration::from_secs(60))
        .build()
}

/// A response body that delivers nothing for this long is cancelled (the SDK's own default, pinned
/// here so a behaviour-version change cannot turn it off).
pub const STALL_GRACE: Duration = Duration::from_secs(5);

/// Loads the region and credentials from the environment, with `timeouts` on every client.
pub async fn load_config(timeouts: TimeoutConfig) -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts)
        .stalled_stream_protection(
            StalledStreamProtectionConfig::enabled()
                .grace_period(STALL_GRACE)
                .build(),
        )
        .load()
        .await
}
