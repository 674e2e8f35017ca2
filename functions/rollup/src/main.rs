//! Roll-up Lambda entry point. With `--event FILE` it handles one event locally and exits (operators'
//! manual re-summarize and the demo use it without the Lambda runtime).

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = rollup::Deps::from_env().await?;
    let mut args = std::env::args().skip(1);
    if let (Some(flag), Some(path)) = (args.next(), args.next())
        && flag == "--event"
    {
        let event = serde_json::from_slice(&std::fs::read(&path)?)?;
        let result = rollup::handle(&deps, LambdaEvent::new(event, Default::default()))
            .await
            .map_err(|e| e.0)?;
        println!("{result}");
        return Ok(());
    }
    lambda_runtime::run(service_fn(|event| rollup::handle(&deps, event))).await
}
