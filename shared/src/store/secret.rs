//! Database credentials from AWS Secrets Manager (`DB_SECRET_ARN`), in the RDS secret format
//! (`{"username": …, "password": …}`). The password never reaches a log line.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::store::DbConfig;

#[derive(Deserialize)]
struct RdsSecret {
    username: String,
    password: String,
}

/// Fills `config`'s user and password from the secret when `DB_SECRET_ARN` is set.
pub async fn apply_secret_from_env(
    config: &mut DbConfig,
    client: impl FnOnce() -> aws_sdk_secretsmanager::Client,
) -> Result<()> {
    let Some(arn) = std::env::var("DB_SECRET_ARN")
        .ok()
        .filter(|a| !a.is_empty())
    else {
        return Ok(());
    };
    let value = client()
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .map_err(|e| {
            Error::Config(format!(
                "reading secret {arn}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            ))
        })?;
    let text = value
        .secret_string()
        .ok_or_else(|| Error::Config(format!("secret {arn} has no string value")))?;
    let secret: RdsSecret = serde_json::from_str(text).map_err(|_| {
        Error::Config(format!(
            "secret {arn} is not {{\"username\", \"password\"}} JSON"
        ))
    })?;
    config.pg.user(secret.username);
    config.pg.password(secret.password);
    Ok(())
}
