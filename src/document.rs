//! The article as read: [`Document`], its [`DocId`], and [`Timestamp`].
//!
//! Ingest produces `Document`s; every later stage refers to them by `DocId`,
//! the position of the document in input order. Ids are dense (`0..n`), so
//! per-document data lives in plain vectors indexed by `DocId`.

use std::fmt;

/// Position of a document in input order. Dense: `0..n`.
///
/// A `u32` limits one run to 4,294,967,295 documents; pair keys pack two of
/// them into a `u64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocId(pub u32);

impl DocId {
    /// The id as an index into per-document vectors.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One article: its user-facing id, its text exactly as read, and metadata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    /// The id the user knows it by (JSONL `id`, a file's relative path, ...).
    pub id: String,
    /// The text exactly as read; passage offsets index into it.
    pub text: String,
    /// Headline, if the input has one.
    pub title: Option<String>,
    /// Publishing outlet, if known.
    pub outlet: Option<String>,
    /// Publication time, if known.
    pub date: Option<Timestamp>,
    /// Address, if known.
    pub url: Option<String>,
}

impl Document {
    /// The headline, or the first `words` words of the text when there is
    /// none. In scripts written without spaces each letter counts as a word
    /// (a Chinese paragraph is one whitespace-separated "word").
    ///
    /// ```
    /// use wiretrace::document::Document;
    /// let doc = |text: &str| Document { text: text.into(), ..Document::default() };
    /// assert_eq!(doc("NATO and Russia  eye\nmore talks").display_title(4), "NATO and Russia eye");
    /// assert_eq!(doc("北约与俄罗斯同意继续对话。双方将在下周").display_title(6), "北约与俄罗斯");
    /// assert_eq!(doc("NATO峰会 今天开幕").display_title(3), "NATO峰会 今");
    /// ```
    pub fn display_title(&self, words: usize) -> String {
        self.title.clone().unwrap_or_else(|| {
            let mut left = words;
            let mut out: Vec<&str> = Vec::new();
            for word in self.text.split_whitespace() {
                if left == 0 {
                    break;
                }
                let mut end = word.len();
                let mut letters = 0;
                for (i, c) in word.char_indices() {
                    if crate::shingle::is_unspaced(c) {
                        if letters == left {
                            end = i;
                            break;
                        }
                        letters += 1;
                    }
                }
                out.push(&word[..end]);
                left -= letters.max(1).min(left);
            }
            out.join(" ")
        })
    }
}

/// A point in time parsed from ISO 8601, kept with its original spelling.
///
/// Ordering is by the instant (seconds since 1970-01-01T00:00:00Z); a date
/// without a time is taken as midnight UTC.
#[derive(Clone, Debug)]
pub struct Timestamp {
    /// Seconds since the Unix epoch, UTC.
    pub epoch_seconds: i64,
    /// How reports show it: an ISO 8601 date or date-time (extended form)
    /// as written, any other form as ISO 8601 in UTC
    /// (`2022-01-12T18:00:00Z`), so a report's date column sorts.
    pub text: String,
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.epoch_seconds == other.epoch_seconds
    }
}
impl Eq for Timestamp {}
impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.epoch_seconds.cmp(&other.epoch_seconds)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Timestamp {
    /// Parses an ISO 8601 date, `YYYY-MM-DD`, optionally followed by `T`
    /// or a space, `hh:mm[:ss[.fraction]]` and a zone (`Z` or `±hh:mm` /
    /// `±hhmm`), or in the basic form (`20220112`, `20220112T180000Z`, and
    /// GDELT's `20220112180000`); an RFC 2822 date as RSS feeds write it,
    /// `Wed, 12 Jan 2022 18:00:00 GMT`; or a Unix time in seconds or
    /// milliseconds. Its [`Timestamp::text`] is the ISO 8601 text as
    /// written, and the other forms in ISO 8601 UTC.
    ///
    /// ```
    /// use wiretrace::document::Timestamp;
    /// let a = Timestamp::parse("2022-01-12").unwrap();
    /// let b = Timestamp::parse("2022-01-12T10:30:00+01:00").unwrap();
    /// assert_eq!(a.epoch_seconds, 1_641_945_600);
    /// assert_eq!(b.epoch_seconds - a.epoch_seconds, 9 * 3600 + 30 * 60);
    /// assert!(Timestamp::parse("12/01/2022").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Timestamp> {
        let s = text.trim();
        if let Some(epoch_seconds) = iso_8601(s) {
            return Some(Timestamp {
                epoch_seconds,
                text: s.to_string(),
            });
        }
        let epoch_seconds = basic(s).or_else(|| rfc_2822(s)).or_else(|| epoch(s))?;
        Some(Timestamp {
            epoch_seconds,
            text: iso_utc(epoch_seconds),
        })
    }
}

/// The RFC 2822 date of e-mail, RSS feeds and HTTP headers, as epoch
/// seconds: `[Day,] DD Mon YYYY hh:mm[:ss] [zone]`, the zone `±hhmm`, `GMT`,
/// `UT`, `UTC`, `Z` or a North American one (`EST` ... `PDT`); none is UTC.
///
/// ```
/// use wiretrace::document::Timestamp;
/// let iso = Timestamp::parse("2022-01-12T18:00:00Z").unwrap();
/// for rss in ["Wed, 12 Jan 2022 18:00:00 GMT", "12 jan 2022 13:00 -0500", "Wed, 12 Jan 2022 10:00:00 PST"] {
///     assert_eq!(Timestamp::parse(rss).unwrap().epoch_seconds, iso.epoch_seconds, "{rss}");
/// }
/// assert!(Timestamp::parse("Wed, 32 Jan 2022 18:00:00 GMT").is_none());
/// ```
fn rfc_2822(s: &str) -> Option<i64> {
    // The weekday says nothing the date does not.
    let s = s.split_once(',').map_or(s, |(_, rest)| rest);
    let mut parts = s.split_whitespace();
    let day = num(parts.next()?.as_bytes())?;
    let month = parts.next()?.to_ascii_lowercase();
    let month = 1 + [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| *m == month)? as i64;
    let year = parts.next()?;
    if year.len() != 4 {
        return None;
    }
    let year = num(year.as_bytes())?;
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut clock = parts.next()?.split(':');
    let h = num(clock.next()?.as_bytes())?;
    let m = num(clock.next()?.as_bytes())?;
    let sec = clock.next().map_or(Some(0), |x| num(x.as_bytes()))?;
    if clock.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let zone = match parts.next() {
        None => 0,
        Some(z) => match z.to_ascii_uppercase().as_str() {
            "GMT" | "UT" | "UTC" | "Z" => 0,
            "EDT" => -4 * 3600,
            "EST" | "CDT" => -5 * 3600,
            "CST" | "MDT" => -6 * 3600,
            "MST" | "PDT" => -7 * 3600,
            "PST" => -8 * 3600,
            z => {
                let (sign, digits) = z.split_at_checked(1)?;
                let hhmm = num(digits.as_bytes()).filter(|_| digits.len() == 4)?;
                let offset = hhmm / 100 * 3600 + hhmm % 100 * 60;
                match sign {
                    "+" => offset,
                    "-" => -offset,
                    _ => return None,
                }
            }
        },
    };
    if parts.next().is_some() {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec - zone)
}

/// ISO 8601's basic (compact) forms as epoch seconds: `YYYYMMDD`,
/// `YYYYMMDDThhmm[ss]` with an optional zone (`Z`, `±hhmm`, `±hh`), and
/// GDELT's `YYYYMMDDhhmmss` (UTC); read by spelling them out for
/// [`iso_8601`].
///
/// ```
/// use wiretrace::document::Timestamp;
/// let at = |s: &str| Timestamp::parse(s).map(|t| t.epoch_seconds);
/// let iso = at("2022-01-12T18:30:00Z");
/// assert_eq!(at("20220112T183000Z"), iso);
/// assert_eq!(at("20220112183000"), iso);
/// assert_eq!(at("20220112T1930+0100"), iso);
/// assert_eq!(at("20220112"), at("2022-01-12"));
/// assert_eq!(at("20221312"), None);
/// ```
fn basic(s: &str) -> Option<i64> {
    let (date, rest) = s.split_at_checked(8)?;
    if !date.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut ext = format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]);
    let time = if rest.len() == 6 && rest.bytes().all(|c| c.is_ascii_digit()) {
        rest
    } else if let Some(time) = rest.strip_prefix(['T', 't']) {
        time
    } else if rest.is_empty() {
        return iso_8601(&ext);
    } else {
        return None;
    };
    let digits = time.bytes().take_while(u8::is_ascii_digit).count();
    let (clock, zone) = time.split_at(digits);
    let (hm, ss) = match digits {
        4 => (clock, None),
        6 => (&clock[..4], Some(&clock[4..])),
        _ => return None,
    };
    ext += &format!("T{}:{}", &hm[..2], &hm[2..]);
    if let Some(ss) = ss {
        ext += &format!(":{ss}");
    }
    ext += zone;
    iso_8601(&ext)
}

/// A Unix time, as scrapers and APIs often store dates: 9 or 10 digits of
/// seconds (1973 to 2286) or 13 of milliseconds, read as seconds.
///
/// ```
/// use wiretrace::document::Timestamp;
/// let at = |s: &str| Timestamp::parse(s).map(|t| t.epoch_seconds);
/// assert_eq!(at("1641945600"), at("2022-01-12"));
/// assert_eq!(at("1641945600250"), at("2022-01-12"));
/// assert_eq!(at("16419456002"), None);
/// ```
fn epoch(s: &str) -> Option<i64> {
    // `num` takes digits only.
    match s.len() {
        9 | 10 => num(s.as_bytes()),
        13 => num(s.as_bytes()).map(|ms| ms / 1000),
        _ => None,
    }
}

/// An ISO 8601 date or date-time as epoch seconds (see [`Timestamp::parse`]).
fn iso_8601(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = num(&b[0..4])?;
    let month = num(&b[5..7])?;
    let day = num(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut rest = &b[10..];
    if !rest.is_empty() {
        if rest[0] != b'T' && rest[0] != b' ' && rest[0] != b't' {
            return None;
        }
        rest = &rest[1..];
        if rest.len() < 5 || rest[2] != b':' {
            return None;
        }
        let h = num(&rest[0..2])?;
        let m = num(&rest[3..5])?;
        if h > 23 || m > 59 {
            return None;
        }
        secs += h * 3600 + m * 60;
        rest = &rest[5..];
        if rest.len() >= 3 && rest[0] == b':' {
            let sec = num(&rest[1..3])?;
            if sec > 60 {
                return None;
            }
            secs += sec;
            rest = &rest[3..];
            if !rest.is_empty() && (rest[0] == b'.' || rest[0] == b',') {
                let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                rest = &rest[1 + digits..];
            }
        }
        match rest {
            [] | [b'Z'] | [b'z'] => {}
            [sign @ (b'+' | b'-'), zone @ ..] => {
                let (zh, zm) = match zone {
                    [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                        (num(&[*h1, *h2])?, num(&[*m1, *m2])?)
                    }
                    [h1, h2] => (num(&[*h1, *h2])?, 0),
                    _ => return None,
                };
                let offset = zh * 3600 + zm * 60;
                secs += if *sign == b'+' { -offset } else { offset };
            }
            _ => return None,
        }
    }
    Some(secs)
}

fn num(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        b.iter()
            .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0')),
    )
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` of epoch seconds (also how `synth` dates articles).
pub(crate) fn iso_utc(epoch_seconds: i64) -> String {
    let (days, secs) = (
        epoch_seconds.div_euclid(86_400),
        epoch_seconds.rem_euclid(86_400),
    );
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The proleptic Gregorian date of a count of days since 1970-01-01, the
/// inverse of [`days_from_civil`] (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let base = Timestamp::parse("1987-02-26").unwrap().epoch_seconds;
        assert_eq!(base, 541_296_000);
        let t = Timestamp::parse("1987-02-26T15:01:01.79Z").unwrap();
        assert_eq!(t.epoch_seconds - base, 15 * 3600 + 61);
        let t = Timestamp::parse("1987-02-26 15:01").unwrap();
        assert_eq!(t.epoch_seconds - base, 15 * 3600 + 60);
        let t = Timestamp::parse("1987-02-26T15:00:00-0500").unwrap();
        assert_eq!(t.epoch_seconds - base, 20 * 3600);
        // RFC 2822, as RSS feeds write dates; reports show it in ISO 8601.
        let t = Timestamp::parse(" Thu, 26 Feb 1987 15:01:01 +0100 ").unwrap();
        assert_eq!(t.epoch_seconds - base, 14 * 3600 + 61);
        assert_eq!(t.text, "1987-02-26T14:01:01Z");
        // An ISO 8601 date is shown as written.
        let t = Timestamp::parse("1987-02-26T15:01:01+01:00").unwrap();
        assert_eq!(t.text, "1987-02-26T15:01:01+01:00");
        let t = Timestamp::parse("26 FEB 1987 15:01").unwrap();
        assert_eq!(t.epoch_seconds - base, 15 * 3600 + 60);
        let t = Timestamp::parse("Thu, 26 Feb 1987 10:00:00 EST").unwrap();
        assert_eq!(t.epoch_seconds - base, 15 * 3600);
    }

    #[test]
    fn other_forms_are_shown_in_iso_8601_utc() {
        for (given, shown) in [
            ("1641945600", "2022-01-12T00:00:00Z"),
            ("1646006400500", "2022-02-28T00:00:00Z"),
            ("20220112T183000+0100", "2022-01-12T17:30:00Z"),
            ("Sat, 31 Dec 2016 23:59:60 GMT", "2017-01-01T00:00:00Z"),
            ("999999999", "2001-09-09T01:46:39Z"),
        ] {
            assert_eq!(Timestamp::parse(given).unwrap().text, shown, "{given}");
        }
        // Day counts round-trip over four centuries around the epoch.
        for days in (-146_097..146_097).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "2022-13-01",
            "2022-02-30",
            "2022-01-01X",
            "2022-01-01T25:00",
            "yesterday",
            "2022-01-01T10:00+5",
            "Wed, 12 Jan 22 18:00 GMT",
            "Wed, 12 Foo 2022 18:00 GMT",
            "Wed, 12 Jan 2022",
            "Wed, 12 Jan 2022 24:00 GMT",
            "Wed, 12 Jan 2022 18:00 +05",
            "Wed, 12 Jan 2022 18:00 GMT later",
            "Sat, 29 Feb 2023 18:00 GMT",
            "2022011",
            "20220112T18",
            "20220112T1800+5",
            "202201121800",
            "20220112X1800",
            "12345678901",
            "-1641945600",
        ] {
            assert!(Timestamp::parse(bad).is_none(), "{bad} should not parse");
        }
        assert!(Timestamp::parse("2024-02-29").is_some());
        assert!(Timestamp::parse("2023-02-29").is_none());
    }
}
