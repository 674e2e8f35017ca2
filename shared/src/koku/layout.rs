//! koku's S3 key layout for raw hourly OCP Parquet (spec §2.3):
//! `data/parquet/{account}/OCP/{report_type}/source={uuid}/year={YYYY}/month={MM}/{file}.parquet`.
//! `source`, `year` and `month` come from the key, never from columns.

use std::borrow::Cow;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::koku::report::ReportType;

/// A raw hourly object that this pipeline ingests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawObjectKey {
    pub account: String,
    pub report_type: ReportType,
    pub source: Uuid,
    pub year: i32,
    pub month: u32,
}

impl RawObjectKey {
    /// First day of the key's month: rows outside `[month_start, next month)` are not the key's.
    pub fn month_start(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }
}

/// What to do with an object key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    Raw(RawObjectKey),
    /// Not ours (daily files, other providers, other layouts): skipped with a log line, not an error.
    Skip(&'static str),
}

/// S3 event notifications carry keys form-urlencoded: `+` is a space, `%XX` a byte.
pub fn decode_event_key(key: &str) -> Cow<'_, str> {
    if !key.contains(['+', '%']) {
        return Cow::Borrowed(key);
    }
    let spaced = key.replace('+', " ");
    let decoded = percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy();
    Cow::Owned(decoded.into_owned())
}

/// Classifies a decoded object key.
pub fn classify(key: &str) -> KeyKind {
    let parts: Vec<&str> = key.split('/').collect();
    if parts.len() != 9 || parts[0] != "data" || parts[1] != "parquet" {
        return if key.starts_with("data/parquet/daily/") {
            KeyKind::Skip("koku daily roll-up file (the pipeline reads hourly files only)")
        } else {
            KeyKind::Skip("outside koku's raw OCP Parquet layout")
        };
    }
    let [_, _, account, provider, report, source, year, month, file] = parts[..] else {
        return KeyKind::Skip("outside koku's raw OCP Parquet layout");
    };
    if account == "daily" {
        return KeyKind::Skip("koku daily roll-up file (the pipeline reads hourly files only)");
    }
    if provider != "OCP" {
        return KeyKind::Skip("not an OpenShift (OCP) report");
    }
    if !file.ends_with(".parquet") {
        return KeyKind::Skip("not a .parquet object");
    }
    let Some(report_type) = ReportType::from_path_segment(report) else {
        return KeyKind::Skip("not one of the ingested OCP report types");
    };
    let Some(source) = partition_value(source, "source").and_then(|s| Uuid::parse_str(s).ok())
    else {
        return KeyKind::Skip("source= partition is not a UUID");
    };
    let Some(year) = partition_value(year, "year").and_then(parse_digits::<i32>(4)) else {
        return KeyKind::Skip("year= partition is not YYYY");
    };
    let Some(month) = partition_value(month, "month")
        .and_then(parse_digits::<u32>(2))
        .filter(|m| (1..=12).contains(m))
    else {
        return KeyKind::Skip("month= partition is not a zero-padded month");
    };
    KeyKind::Raw(RawObjectKey {
        account: account.to_owned(),
        report_type,
        source,
        year,
        month,
    })
}

fn partition_value<'a>(segment: &'a str, name: &str) -> Option<&'a str> {
    segment.strip_prefix(name)?.strip_prefix('=')
}

fn parse_digits<T: std::str::FromStr>(width: usize) -> impl Fn(&str) -> Option<T> {
    move |s| {
        (s.len() == width && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "5235154c-2132-56b5-8b3d-2a3a00f342f5";

    #[test]
    fn decodes_form_urlencoded_keys() {
        assert_eq!(decode_event_key("a+b%3Dc%2Fd"), "a b=c/d");
        assert_eq!(decode_event_key("plain/key.parquet"), "plain/key.parquet");
        assert_eq!(decode_event_key("100%25+done"), "100% done");
    }

    #[test]
    fn classifies_raw_keys() {
        let key = format!(
            "data/parquet/org1234567/OCP/pod_usage/source={SOURCE}/year=2025/month=11/pod_usage.2025-11-01.1.0_0.parquet"
        );
        let KeyKind::Raw(raw) = classify(&key) else {
            panic!("expected a raw key")
        };
        assert_eq!(raw.account, "org1234567");
        assert_eq!(raw.report_type, ReportType::PodUsage);
        assert_eq!(raw.source.to_string(), SOURCE);
        assert_eq!((raw.year, raw.month), (2025, 11));
        assert_eq!(
            raw.month_start(),
            NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()
        );
        let gpu = format!(
            "data/parquet/org1/OCP/gpu_usage/source={SOURCE}/year=2026/month=08/gpu_usage.2026-08-10.42.0_0.parquet"
        );
        let KeyKind::Raw(raw) = classify(&gpu) else {
            panic!("expected a raw key")
        };
        assert_eq!(raw.report_type, ReportType::GpuUsage);
    }

    #[test]
    fn skips_daily_and_foreign_keys() {
        let daily = format!(
            "data/parquet/daily/org1/OCP/pod_usage/source={SOURCE}/year=2025/month=11/x_daily_0.parquet"
        );
        assert!(matches!(classify(&daily), KeyKind::Skip(_)));
        for bad in [
            "data/csv/org1/OCP/x.csv".to_owned(),
            format!("data/parquet/org1/AWS/pod_usage/source={SOURCE}/year=2025/month=11/a.parquet"),
            format!("data/parquet/org1/OCP/vm_usage/source={SOURCE}/year=2025/month=11/a.parquet"),
            "data/parquet/org1/OCP/pod_usage/source=nope/year=2025/month=11/a.parquet".to_owned(),
            format!("data/parquet/org1/OCP/pod_usage/source={SOURCE}/year=2025/month=1/a.parquet"),
            format!("data/parquet/org1/OCP/pod_usage/source={SOURCE}/year=2025/month=13/a.parquet"),
            format!("data/parquet/org1/OCP/pod_usage/source={SOURCE}/year=2025/month=11/a.csv"),
        ] {
            assert!(matches!(classify(&bad), KeyKind::Skip(_)), "{bad}");
        }
    }
}
