//! Object versions and the rule that decides what an S3 event does to what is stored. Events come
//! at least once and in any order; the rule makes redeliveries, late events and overwrites change
//! exactly what they should: the S3 sequencer orders events of one key, the ETag names content.

use std::cmp::Ordering;

use chrono::NaiveDate;
use uuid::Uuid;

/// What an S3 event says happened to an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    pub bucket: String,
    pub key: String,
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    pub removed: bool,
}

/// The state of a stored object version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectState {
    /// Ingested: its partials count.
    Present,
    /// Deleted: a tombstone, so a late, older event is recognised as stale.
    Removed,
    /// Bad content, recorded in the error table: nothing of it counts.
    Failed,
}

impl ObjectState {
    /// The value of `ocp_ingested_object.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectState::Present => "present",
            ObjectState::Removed => "removed",
            ObjectState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Present, Self::Removed, Self::Failed]
            .into_iter()
            .find(|state| state.as_str() == s)
    }
}

/// The version of an object the database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    pub state: ObjectState,
    pub source: Option<Uuid>,
    pub days: Vec<NaiveDate>,
    /// The day of the version's payload tag ([`super::payload`]), if it has one.
    pub payload_day: Option<NaiveDate>,
}

/// What to do with an event, given what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Read the object and replace whatever the key had.
    Ingest,
    /// Drop the key's partials and leave a tombstone.
    Remove,
    /// Same content already stored (redelivery or identical re-upload): move the sequencer only.
    AlreadyCurrent,
    /// An older event than the one stored: ignore.
    Stale,
}

/// S3 sequencers are hex strings of varying length; compare them as numbers (left-padded).
pub fn compare_sequencers(a: &str, b: &str) -> Ordering {
    let width = a.len().max(b.len());
    let pad = |s: &str| format!("{:0>width$}", s.to_ascii_uppercase());
    pad(a).cmp(&pad(b))
}

pub fn decide(stored: Option<&StoredVersion>, event: &ObjectEvent) -> Decision {
    let Some(stored) = stored else {
        return if event.removed {
            Decision::Remove
        } else {
            Decision::Ingest
        };
    };
    let order = match (&event.sequencer, &stored.sequencer) {
        (Some(e), Some(s)) => Some(compare_sequencers(e, s)),
        _ => None,
    };
    if order == Some(Ordering::Less) {
        return Decision::Stale;
    }
    let removed = stored.state == ObjectState::Removed;
    if event.removed {
        return if order == Some(Ordering::Equal) && removed {
            Decision::AlreadyCurrent
        } else {
            Decision::Remove
        };
    }
    if !removed && event.etag.is_some() && event.etag == stored.etag {
        Decision::AlreadyCurrent
    } else {
        Decision::Ingest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;
    use ObjectState::*;

    #[test]
    fn sequencers_compare_as_padded_hex() {
        assert_eq!(compare_sequencers("0A", "9"), Ordering::Greater);
        assert_eq!(compare_sequencers("00000000001", "1"), Ordering::Equal);
        assert_eq!(compare_sequencers("5f0e9a", "5F0E9B"), Ordering::Less);
    }

    #[test]
    fn object_states_round_trip() {
        for state in [Present, Removed, Failed] {
            assert_eq!(ObjectState::parse(state.as_str()), Some(state));
        }
        assert_eq!(ObjectState::parse("gone"), None);
    }

    /// One case: what is stored (etag, sequencer, state), the event (etag, sequencer, removed), and
    /// the decision.
    type Case = (
        Option<(Option<&'static str>, &'static str, ObjectState)>,
        (Option<&'static str>, Option<&'static str>, bool),
        Decision,
        &'static str,
    );

    #[test]
    fn the_decision_rule() {
        let cases: &[Case] = &[
            (
                None,
                (Some("e1"), Some("01"), false),
                Ingest,
                "first sight ingests",
            ),
            (
                None,
                (None, Some("01"), true),
                Remove,
                "first sight of a removal leaves a tombstone",
            ),
            (
                Some((Some("e1"), "01", Present)),
                (Some("e1"), Some("01"), false),
                AlreadyCurrent,
                "redelivery",
            ),
            (
                Some((Some("e1"), "01", Present)),
                (Some("e1"), Some("02"), false),
                AlreadyCurrent,
                "identical re-upload",
            ),
            (
                Some((Some("e1"), "01", Present)),
                (Some("e1"), None, false),
                AlreadyCurrent,
                "no sequencer, same content",
            ),
            (
                Some((Some("e2"), "02", Present)),
                (Some("e3"), Some("03"), false),
                Ingest,
                "overwrite",
            ),
            (
                Some((Some("e2"), "02", Present)),
                (Some("e1"), Some("01"), false),
                Stale,
                "late older create",
            ),
            (
                Some((Some("e2"), "02", Present)),
                (None, Some("01"), true),
                Stale,
                "late older removal",
            ),
            (
                Some((Some("e2"), "02", Present)),
                (None, Some("03"), true),
                Remove,
                "removal",
            ),
            (
                Some((None, "05", Removed)),
                (Some("e1"), Some("04"), false),
                Stale,
                "create older than the tombstone",
            ),
            (
                Some((None, "05", Removed)),
                (Some("e1"), Some("06"), false),
                Ingest,
                "re-created after removal",
            ),
            (
                Some((None, "05", Removed)),
                (None, Some("05"), true),
                AlreadyCurrent,
                "removal redelivered",
            ),
            (
                Some((Some("bad"), "02", Failed)),
                (Some("bad"), Some("02"), false),
                AlreadyCurrent,
                "bad content redelivered",
            ),
            (
                Some((Some("bad"), "02", Failed)),
                (Some("good"), Some("03"), false),
                Ingest,
                "bad content replaced",
            ),
        ];
        for &(stored, (etag, sequencer, removed), expected, case) in cases {
            let stored = stored.map(|(etag, sequencer, state)| StoredVersion {
                etag: etag.map(Into::into),
                sequencer: Some(sequencer.into()),
                state,
                source: None,
                days: vec![],
                payload_day: None,
            });
            let event = ObjectEvent {
                bucket: "b".into(),
                key: "k".into(),
                etag: etag.map(Into::into),
                sequencer: sequencer.map(Into::into),
                removed,
            };
            assert_eq!(decide(stored.as_ref(), &event), expected, "{case}");
        }
    }
}
