//! Roll-up Lambda entry point: dependencies built once, then one schedule or operator request per
//! invocation (or, with `--event FILE`, one local event; see `function_runtime::serve`).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = rollup_function::Deps::from_env().await?;
    function_runtime::serve(deps, rollup_function::handle).await
}
