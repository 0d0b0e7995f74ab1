//! How a moment (`DateTime<Utc>`) crosses the wire between the server and the browser: chrono's
//! own RFC 3339 text on the way out, and on the way in a reader of exactly that shape
//! (`2026-12-08T01:33:42.123456Z`, or an offset instead of `Z`). chrono's own reader is its
//! general date parser, which every page reading a time would carry in its WASM; the fields of
//! the types the browser reads name this module instead: `#[serde(with = "crate::wire_time")]`,
//! or `wire_time::optional` for an `Option`.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<S: Serializer>(moment: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    moment.serialize(serializer)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    read(&String::deserialize(deserializer)?).map_err(D::Error::custom)
}

/// The same for an optional moment (`null` for none).
pub mod optional {
    use super::*;

    pub fn serialize<S: Serializer>(
        moment: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        moment.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| read(&text).map_err(D::Error::custom))
            .transpose()
    }
}

/// Reads `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1 to 9 digits, and `Z` or `±HH:MM`.
fn read(text: &str) -> Result<DateTime<Utc>, String> {
    read_parts(text.as_bytes()).ok_or_else(|| format!("`{text}` is not an RFC 3339 time"))
}

fn read_parts(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let number = |at: usize, len: usize| -> Option<u32> {
        let digits = bytes.get(at..at + len)?;
        digits.iter().try_fold(0u32, |value, &byte| {
            byte.is_ascii_digit()
                .then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    let separated = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')]
        .iter()
        .all(|&(at, byte)| bytes.get(at) == Some(&byte))
        && matches!(bytes.get(10), Some(b'T' | b't' | b' '));
    if !separated {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0, 4)?).ok()?,
        number(5, 2)?,
        number(8, 2)?,
    )?;
    let mut at = 19;
    let mut nanos = 0;
    if bytes.get(at) == Some(&b'.') {
        let digits = bytes[at + 1..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        nanos = number(at + 1, digits)? * 10u32.pow(9 - digits as u32);
        at += 1 + digits;
    }
    let time = NaiveTime::from_hms_nano_opt(number(11, 2)?, number(14, 2)?, number(17, 2)?, nanos)?;
    let offset_minutes = match bytes.get(at..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let minutes = i64::from(number(at + 1, 2)? * 60 + number(at + 4, 2)?);
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let local = date.and_time(time);
    Some(
        local
            .checked_sub_signed(TimeDelta::minutes(offset_minutes))?
            .and_utc(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_chrono_writes_reads_back_as_the_same_moment() {
        let moments = [
            "2026-12-08T01:33:42Z",
            "2026-12-08T01:33:42.5Z",
            "2026-12-08T01:33:42.123Z",
            "2026-12-08T01:33:42.123456Z",
            "1999-02-28T23:59:59.999999999Z",
        ];
        for text in moments {
            let moment: DateTime<Utc> = text.parse().unwrap();
            let written = serde_json::to_string(&moment).unwrap();
            assert_eq!(read(written.trim_matches('"')), Ok(moment), "{written}");
        }
    }

    #[test]
    fn an_offset_is_taken_into_account_and_anything_else_is_refused() {
        let expected: DateTime<Utc> = "2026-12-07T23:03:42Z".parse().unwrap();
        assert_eq!(read("2026-12-08T01:33:42+02:30"), Ok(expected));
        assert_eq!(read("2026-12-07t20:03:42-03:00"), Ok(expected));
        for junk in [
            "",
            "2026-12-08",
            "2026-12-08T01:33:42",
            "2026-13-08T01:33:42Z",
            "2026-12-08T01:33:42.Z",
            "2026-12-08T01:33:42.1234567890Z",
            "2026-12-08T01:33:42+0200",
            "2026-12-08T25:33:42Z",
            "2026-12-08T01:33:42Zjunk",
            "２026-12-08T01:33:42Z",
        ] {
            assert!(read(junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn a_field_read_through_the_module_takes_null_for_none() {
        #[derive(Deserialize, Serialize, Debug, PartialEq)]
        struct Run {
            #[serde(with = "crate::wire_time")]
            queued_at: DateTime<Utc>,
            #[serde(default, with = "crate::wire_time::optional")]
            started_at: Option<DateTime<Utc>>,
        }
        let run = Run {
            queued_at: "2026-12-08T01:33:42.25Z".parse().unwrap(),
            started_at: None,
        };
        let json = serde_json::to_string(&run).unwrap();
        assert_eq!(
            json,
            r#"{"queued_at":"2026-12-08T01:33:42.250Z","started_at":null}"#
        );
        assert_eq!(serde_json::from_str::<Run>(&json).unwrap(), run);
        let missing: Run =
            serde_json::from_str(r#"{"queued_at":"2026-12-08T01:33:42.25Z"}"#).unwrap();
        assert_eq!(missing, run);
    }
}
