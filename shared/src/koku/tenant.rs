//! Which tenant schema a key's account part names. koku writes the account part from the tenant's
//! schema name: the bare digits for a schema `acct<digits>`, the schema name itself otherwise
//! (`org<digits>`). This maps it back, and admits nothing else: the account part comes from an S3
//! key anyone with write access to the bucket chose, and it becomes a schema name.

use crate::store::Identifier;

/// PostgreSQL truncates identifiers longer than this; a longer name would silently alias another.
pub const MAX_SCHEMA_BYTES: usize = 63;

/// Why an account part names no tenant. Messages show the account escaped, so a hostile value
/// cannot forge log lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("the key's account part is empty")]
    Empty,
    #[error("account {0:?} is neither bare digits (acct schema) nor org<digits>")]
    Shape(String),
    #[error(
        "account {account:?} maps to a schema name of {bytes} bytes (at most {MAX_SCHEMA_BYTES})"
    )]
    TooLong { account: String, bytes: usize },
    #[error("account {0:?} names a system schema")]
    Reserved(String),
}

/// The tenant schema of a key's account part: `1234` → `acct1234`, `org1234` → `org1234`.
pub fn tenant_schema(account: &str) -> Result<Identifier, AccountError> {
    if account.is_empty() {
        return Err(AccountError::Empty);
    }
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let schema = if all_digits(account) {
        format!("acct{account}")
    } else if account.strip_prefix("org").is_some_and(all_digits) {
        account.to_owned()
    } else {
        return Err(AccountError::Shape(account.to_owned()));
    };
    if schema.len() > MAX_SCHEMA_BYTES {
        return Err(AccountError::TooLong {
            account: account.to_owned(),
            bytes: schema.len(),
        });
    }
    // The two shapes cannot spell these; checked anyway, so a later widening of the shapes cannot
    // route into the catalog.
    if is_reserved(&schema) {
        return Err(AccountError::Reserved(account.to_owned()));
    }
    Identifier::parse(&schema).map_err(|_| AccountError::Shape(account.to_owned()))
}

/// A tenant schema given by its name (an operator's request): `acct<digits>` or `org<digits>`.
pub fn tenant_schema_named(name: &str) -> Result<Identifier, AccountError> {
    match name.strip_prefix("acct") {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            tenant_schema(digits)
        }
        _ if name.starts_with("org") => tenant_schema(name),
        _ => Err(AccountError::Shape(name.to_owned())),
    }
}

/// Schemas no object may be routed to.
pub fn is_reserved(schema: &str) -> bool {
    schema == "public"
        || schema == "information_schema"
        || schema.starts_with("pg_")
        || schema == crate::store::CONTROL_SCHEMA
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn koku_accounts_map_back_to_their_schemas() {
        let schema = |a: &str| tenant_schema(a).map(|s| s.as_str().to_owned());
        assert_eq!(schema("10001").unwrap(), "acct10001");
        assert_eq!(schema("org1234567").unwrap(), "org1234567");
        assert_eq!(schema("0").unwrap(), "acct0");
        // The longest that fit: 59 digits after `acct`, 60 after `org`.
        assert_eq!(schema(&"9".repeat(59)).unwrap().len(), 63);
        assert_eq!(schema(&format!("org{}", "1".repeat(60))).unwrap().len(), 63);
    }

    #[test]
    fn hostile_account_parts_are_refused() {
        let sixty_four = format!("org{}", "1".repeat(61));
        assert_eq!(sixty_four.len(), 64);
        for bad in [
            "public",
            "pg_catalog",
            "pg_toast",
            "information_schema",
            "ocp_control",
            "org1234567; drop schema x",
            "org1234567\"; drop schema x; --",
            "ORG1",
            "Org1",
            "org",
            "acct10001",
            "org-1",
            "org 1",
            " 1",
            "1 ",
            "+1",
            "-1",
            "1e5",
            "org1/..",
            "..",
            ".",
            "",
            "orgé1",
            "org１２３",
            "١٢٣",
            "org1\0",
            "org1\n",
            sixty_four.as_str(),
            &"9".repeat(60),
        ] {
            assert!(tenant_schema(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(tenant_schema(""), Err(AccountError::Empty));
        assert!(matches!(
            tenant_schema(&sixty_four),
            Err(AccountError::TooLong { bytes: 64, .. })
        ));
    }

    #[test]
    fn operators_name_tenants_by_schema() {
        let named = |n: &str| tenant_schema_named(n).map(|s| s.as_str().to_owned());
        assert_eq!(named("acct10001").unwrap(), "acct10001");
        assert_eq!(named("org1234567").unwrap(), "org1234567");
        for bad in ["10001", "acct", "acctorg1", "acct1x", "public", "org", ""] {
            assert!(named(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reasons_escape_the_account() {
        let reason = tenant_schema("org1\n\"x").unwrap_err().to_string();
        assert!(!reason.contains('\n'), "{reason}");
        assert!(reason.contains("\\n"), "{reason}");
    }
}
