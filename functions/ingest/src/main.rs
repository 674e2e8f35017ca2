//! Ingest Lambda entry point: dependencies built once, then one S3 event per invocation (or, with
//! `--event FILE`, one local event; see `function_runtime::serve`).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    ocp_summary::ingest::budget::pin_allocator_mmap_threshold();
    let deps = ingest_function::Deps::from_env().await?;
    function_runtime::serve(deps, ingest_function::handle).await
}
