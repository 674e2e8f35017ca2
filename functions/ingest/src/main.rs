//! Ingest Lambda entry point. With `--event FILE` it handles one event locally and exits, without
//! the Lambda runtime (used by the memory-ceiling test and the benchmark).

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = ingest::Deps::from_env().await?;
    let mut args = std::env::args().skip(1);
    if let (Some(flag), Some(path)) = (args.next(), args.next())
        && flag == "--event"
    {
        let event = serde_json::from_slice(&std::fs::read(&path)?)?;
        let outcomes = ingest::handle(&deps, LambdaEvent::new(event, Default::default()))
            .await
            .map_err(|e| e.0)?;
        println!("{}", serde_json::to_string(&outcomes)?);
        return Ok(());
    }
    lambda_runtime::run(service_fn(|event| ingest::handle(&deps, event))).await
}
