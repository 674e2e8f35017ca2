//! Least privilege in template.yaml: no wildcard actions or resources outside an explicit,
//! justified allowlist, and each function's policies grant exactly what its code uses.

use integration_tests::template::{self, Statement};

/// (Sid, value with a `*`, why it is acceptable).
const WILDCARD_ALLOWLIST: &[(&str, &str, &str)] = &[
    (
        "DenyInsecureTransport",
        "s3:*",
        "a Deny: the wider it is, the stricter (no S3 action over plain HTTP)",
    ),
    (
        "DenyInsecureTransport",
        "!Sub arn:${AWS::Partition}:s3:::${RawBucketName}/*",
        "a Deny covering every object of the raw bucket",
    ),
    (
        "ReadRawParquet",
        "!Sub arn:${AWS::Partition}:s3:::${RawBucketName}/data/parquet/*",
        "object ARNs can name a key prefix only with a trailing *; this is koku's raw prefix",
    ),
];

fn statements() -> Vec<Statement> {
    template::statements(&template::text())
        .unwrap_or_else(|problems| panic!("template.yaml: {problems:#?}"))
}

#[test]
fn no_wildcard_actions_or_resources_outside_the_allowlist() {
    let statements = statements();
    let mut used = vec![false; WILDCARD_ALLOWLIST.len()];
    let mut violations = Vec::new();
    for s in &statements {
        for value in s.actions.iter().chain(&s.resources) {
            if !value.contains('*') {
                continue;
            }
            match WILDCARD_ALLOWLIST
                .iter()
                .position(|(sid, v, _)| *sid == s.sid && v == value)
            {
                Some(i) => used[i] = true,
                None => violations.push(format!("{}/{}: {value}", s.resource, s.sid)),
            }
        }
    }
    assert!(violations.is_empty(), "wildcards: {violations:#?}");
    // An entry no longer needed is removed, so the list stays an honest account.
    for ((sid, value, _), used) in WILDCARD_ALLOWLIST.iter().zip(used) {
        assert!(used, "allowlist entry {sid} {value} matches nothing");
    }
}

/// Each grant of `function` as `Sid: action on resource [if Condition]`, sorted.
fn grants_of(function: &str) -> Vec<String> {
    // Only inline statements, optionally under `!If`: a SAM policy template or a managed policy
    // would grant what this test cannot see.
    for entry in template::policy_entries(&template::text(), function) {
        assert!(
            entry == "Statement:" || entry == "!If",
            "{function}: policy entry {entry:?} is not an inline statement"
        );
    }
    let mut grants = Vec::new();
    for s in statements().into_iter().filter(|s| s.resource == function) {
        assert_eq!(s.effect, "Allow", "{function}/{}", s.sid);
        let condition = s.condition.map(|c| format!(" if {c}")).unwrap_or_default();
        for action in &s.actions {
            for resource in &s.resources {
                grants.push(format!("{}: {action} on {resource}{condition}", s.sid));
            }
        }
    }
    grants.sort();
    grants
}

#[track_caller]
fn assert_grants(function: &str, expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|g| (*g).to_owned()).collect();
    expected.sort();
    assert_eq!(grants_of(function), expected);
}

#[test]
fn ingest_reads_raw_parquet_and_the_secret_and_reports_failures() {
    assert_grants(
        "IngestFunction",
        &[
            "ReadRawParquet: s3:GetObject on !Sub arn:${AWS::Partition}:s3:::${RawBucketName}/data/parquet/*",
            "ReadDatabaseSecret: secretsmanager:GetSecretValue on !Ref DbSecretArn",
            // The asynchronous-invocation failure destination is written with the function's role.
            "SendToFailureQueue: sqs:SendMessage on !GetAtt FailureQueue.Arn",
            // Opt-in: S3 then answers 404 (superseded) rather than 403 (retried) for deleted objects.
            "Get404ForDeletedObjects: s3:ListBucket on !Sub arn:${AWS::Partition}:s3:::${RawBucketName} if GrantListBucket",
            // Only for a secret under a customer-managed key.
            "DecryptDatabaseSecret: kms:Decrypt on !Ref DbSecretKmsKeyArn if HasSecretKmsKey",
        ],
    );
}

#[test]
fn roll_up_reads_only_the_secret() {
    assert_grants(
        "RollupFunction",
        &[
            "ReadDatabaseSecret: secretsmanager:GetSecretValue on !Ref DbSecretArn",
            "DecryptDatabaseSecret: kms:Decrypt on !Ref DbSecretKmsKeyArn if HasSecretKmsKey",
        ],
    );
}

#[test]
fn the_reader_sees_through_block_lists_and_rejects_shapes_it_cannot_judge() {
    let template = "\
Resources:
  Fn:
    Properties:
      Policies:
        - Statement:
            - Sid: A
              Effect: Allow
              Action:
                - s3:GetObject
                - s3:*
              Resource: [\"arn:aws:s3:::b/k\", '*']
";
    let found = template::statements(template).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].actions, ["s3:GetObject", "s3:*"]);
    assert_eq!(found[0].resources, ["arn:aws:s3:::b/k", "*"]);
    let not_action = template.replace("Action:", "NotAction:");
    assert!(template::statements(&not_action).is_err());
}
