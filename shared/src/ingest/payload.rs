//! The payload a raw object belongs to, as koku tags it (spec §1, §2.3 "Day replacement"): koku
//! writes every raw Parquet object of a daily operator report with S3 user metadata `manifestid`,
//! `reportdatestart` (the day) and `reportnumhours` (the hours of that day the payload covers), and
//! names it `{report_type}.{YYYY-MM-DD}.{manifest_id}.{counter}…parquet`. Of the payloads of one
//! (source, report type, day) koku keeps the one with the most hours (ties: the higher manifest id);
//! the roll-up counts only that one's objects (view `ocp_object_payload`, migration 0005).

use chrono::NaiveDate;

/// User metadata names, as S3 returns them (lower case, without `x-amz-meta-`).
pub const MANIFEST_ID: &str = "manifestid";
pub const REPORT_DAY: &str = "reportdatestart";
pub const REPORT_HOURS: &str = "reportnumhours";

/// The payload tag of one object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// koku's manifest id: compared as a number when it is one, as koku's post-write pass does.
    pub manifest_id: String,
    pub day: NaiveDate,
    pub hours: i32,
}

impl Payload {
    /// The tag of the object at `key` with user metadata `metadata` (looked up by name). `None`
    /// when the object has no day or hours (non-daily operators, hand uploads): such an object
    /// counts as every object did before payloads were tracked. The manifest id comes from the
    /// metadata, else from the file name.
    pub fn of_object(key: &str, metadata: impl Fn(&str) -> Option<String>) -> Option<Payload> {
        let day_text = metadata(REPORT_DAY)?;
        let hours_text = metadata(REPORT_HOURS)?;
        let parsed = parse_day(&day_text).zip(parse_hours(&hours_text));
        let manifest_id = metadata(MANIFEST_ID)
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .or_else(|| manifest_id_of_key(key).map(str::to_owned));
        match (parsed, manifest_id) {
            (Some((day, hours)), Some(manifest_id)) => Some(Payload {
                manifest_id,
                day,
                hours,
            }),
            _ => {
                tracing::warn!(
                    key,
                    day = %day_text,
                    hours = %hours_text,
                    "payload metadata unreadable; the object counts as one without metadata"
                );
                None
            }
        }
    }
}

/// The manifest id in koku's file name `{report_type}.{YYYY-MM-DD}.{manifest_id}.{counter}…`.
pub fn manifest_id_of_key(key: &str) -> Option<&str> {
    let file = key.rsplit('/').next()?;
    let mut parts = file.split('.');
    let (_report, day, manifest) = (parts.next()?, parts.next()?, parts.next()?);
    // A counter (and the extension) must follow, so a bare `x.day.parquet` names no manifest.
    parts.next()?;
    (NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok() && !manifest.is_empty()).then_some(manifest)
}

/// koku writes the day as `YYYY-MM-DD`; a longer timestamp is cut to its date.
fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

fn parse_hours(text: &str) -> Option<i32> {
    text.trim().parse::<i32>().ok().filter(|h| *h >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "data/parquet/org1/OCP/pod_usage/source=5235154c-2132-56b5-8b3d-2a3a00f342f5/\
                       year=2025/month=11/pod_usage.2025-11-05.42.1_0.parquet";

    fn meta(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn nov(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, d).unwrap()
    }

    #[test]
    fn reads_koku_metadata() {
        let tag = Payload::of_object(
            KEY,
            meta(&[
                ("manifestid", "12"),
                ("reportdatestart", "2025-11-05"),
                ("reportnumhours", "6"),
            ]),
        );
        assert_eq!(
            tag,
            Some(Payload {
                manifest_id: "12".into(),
                day: nov(5),
                hours: 6
            }),
            "the metadata's manifest id wins over the file name's"
        );
    }

    #[test]
    fn manifest_id_falls_back_to_the_file_name() {
        let tag = Payload::of_object(
            KEY,
            meta(&[
                ("reportdatestart", "2025-11-05 00:00:00"),
                ("reportnumhours", "24"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (tag.manifest_id.as_str(), tag.day, tag.hours),
            ("42", nov(5), 24)
        );
        assert_eq!(manifest_id_of_key("a/b/pod_usage.2025-11-05.parquet"), None);
        assert_eq!(manifest_id_of_key("pod_usage.latest.7.0.parquet"), None);
    }

    #[test]
    fn objects_without_day_or_hours_have_no_payload() {
        assert_eq!(Payload::of_object(KEY, meta(&[])), None);
        assert_eq!(
            Payload::of_object(KEY, meta(&[("reportdatestart", "2025-11-05")])),
            None
        );
        assert_eq!(
            Payload::of_object(
                KEY,
                meta(&[("reportdatestart", "yesterday"), ("reportnumhours", "6")])
            ),
            None
        );
        assert_eq!(
            Payload::of_object(
                KEY,
                meta(&[("reportdatestart", "2025-11-05"), ("reportnumhours", "-1")])
            ),
            None
        );
        assert_eq!(
            Payload::of_object(
                "hand/upload.parquet",
                meta(&[("reportdatestart", "2025-11-05"), ("reportnumhours", "6")])
            ),
            None,
            "no manifest id anywhere"
        );
    }
}
