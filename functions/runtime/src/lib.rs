//! What both Lambda functions share: the library's error as a Lambda diagnostic, and the entry
//! point that serves invocations under the Lambda runtime or, with `--event FILE`, handles one
//! event locally and prints the result (tests, the benchmark and operators use it without Lambda).

use std::future::Future;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The error of an invocation: the library's error, named by kind for the failure destination.
#[derive(Debug)]
pub struct HandlerError(pub ocp_summary::Error);

impl From<ocp_summary::Error> for HandlerError {
    fn from(e: ocp_summary::Error) -> Self {
        HandlerError(e)
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        Diagnostic {
            error_type: e.0.kind().to_owned(),
            error_message: e.0.to_string(),
        }
    }
}

/// Serves invocations with `handle`, whose dependencies `deps` are built once per execution
/// environment and live as long as it; with `--event FILE`, handles that one event and prints its
/// result as JSON.
pub async fn serve<D, E, R, F, Fut>(deps: D, handle: F) -> Result<(), lambda_runtime::Error>
where
    D: 'static,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    F: Fn(&'static D, LambdaEvent<E>) -> Fut,
    Fut: Future<Output = Result<R, HandlerError>>,
{
    let deps: &'static D = Box::leak(Box::new(deps));
    let mut args = std::env::args().skip(1);
    if let (Some(flag), Some(path)) = (args.next(), args.next())
        && flag == "--event"
    {
        let event = serde_json::from_slice(&std::fs::read(&path)?)?;
        let result = handle(deps, LambdaEvent::new(event, Default::default()))
            .await
            .map_err(|e| e.0)?;
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    lambda_runtime::run(service_fn(|event| handle(deps, event))).await
}
