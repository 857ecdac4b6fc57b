//! Remaining quota as upstreams announce it in response headers (Anthropic's
//! `anthropic-ratelimit-*`, OpenAI's `x-ratelimit-*`, `retry-after` and `retry-after-ms`), read
//! into one [`QuotaReading`] per response, and the rule that protects a credential running
//! low. It parses the few time formats involved by hand (RFC 3339, IMF-fixdate, Go-style
//! durations) so no date crate is needed; any garbage reads as "unknown", never as an error
//! or a panic. It does not store readings (the pool keeps the latest per member) and reads no
//! clock: both the monotonic and the wall-clock `now` come in.

use std::time::{Duration, Instant};

/// No reading looks further ahead than a day: daily quotas are the longest windows providers
/// announce, and the bound keeps a garbage header from parking a credential for years (or
/// overflowing an `Instant`).
pub const MAX_HORIZON: Duration = Duration::from_secs(24 * 3600);

/// How long a fraction read without a reset time is trusted. Providers count in windows of a
/// minute; after that the old number is more likely wrong than right.
pub const ASSUMED_RESET: Duration = Duration::from_secs(60);

/// Quota protection.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaConfig {
    /// A credential with less than this fraction of its quota left is protected (see
    /// [`protected`]). Default 0.10: most of every credential's quota is used, and the last
    /// tenth is kept for when nothing else is left, so load moves elsewhere before the
    /// credential runs into 429s. 0 turns protection off.
    pub protect_below: f64,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self {
            protect_below: 0.10,
        }
    }
}

/// What one response's headers said about the credential's quota.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QuotaReading {
    /// Remaining as a fraction of the limit (`0.0..=1.0`), the minimum over the dimensions
    /// announced (requests, tokens, input and output tokens); `None` when no dimension gave
    /// both a limit and a remaining count.
    pub remaining_fraction: Option<f64>,
    /// When the scarcest dimension refills. Set whenever `remaining_fraction` is: without a
    /// reset header it is `now + ASSUMED_RESET`, so a low reading cannot protect a credential
    /// forever (a protected credential gets no traffic, hence no fresh headers).
    pub reset_at: Option<Instant>,
    /// `retry-after-ms`, else `retry-after` (seconds, possibly fractional, or an HTTP date).
    pub retry_after: Option<Duration>,
}

impl QuotaReading {
    /// The fraction as it stands at `now`: unknown once the window it was read in has reset.
    pub fn fraction_at(&self, now: Instant) -> Option<f64> {
        match self.reset_at {
            Some(reset) if now >= reset => None,
            _ => self.remaining_fraction,
        }
    }
}

/// Whether a credential with `fraction` of its quota left is protected under `threshold`.
///
/// The rule: a protected credential is skipped while another usable credential that is not
/// protected has room; when every credential with room is protected, they serve anyway
/// (spending the last of a quota beats failing the request). Unknown quota is never
/// protected, and a threshold of 0 (or NaN) protects nothing.
pub fn protected(fraction: Option<f64>, threshold: f64) -> bool {
    fraction.is_some_and(|f| f < threshold)
}

/// Reads a response's rate-limit headers. `headers` are `(name, value)` pairs with lower-case
/// names (as the `http` crate gives them); `now` and `now_unix_ms` are the same moment on the
/// monotonic and the wall clock (RFC 3339 and HTTP dates need the latter). A header that
/// appears twice counts once, the last one winning.
pub fn read_quota<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    now: Instant,
    now_unix_ms: i64,
) -> QuotaReading {
    let mut dims = [Dimension::default(); DIMENSIONS.len()];
    let mut retry_after_ms = None;
    let mut retry_after = None;
    for (name, value) in headers {
        let value = value.trim();
        match name {
            "retry-after-ms" => retry_after_ms = parse_number(value).map(|ms| ms / 1000.0),
            "retry-after" => retry_after = parse_retry_after(value, now_unix_ms),
            _ => {
                if let Some((dim, field)) = dimension_header(name) {
                    let d = &mut dims[dim];
                    match field {
                        Field::Limit => d.limit = parse_number(value),
                        Field::Remaining => d.remaining = parse_number(value),
                        Field::Reset => d.reset = parse_reset(dim, value, now_unix_ms),
                    }
                }
            }
        }
    }

    let mut reading = QuotaReading {
        retry_after: retry_after_ms.and_then(secs_to_duration).or(retry_after),
        ..QuotaReading::default()
    };
    // The scarcest dimension decides both the fraction and when it refills.
    let scarcest = dims
        .iter()
        .filter_map(|d| d.fraction().map(|f| (f, d.reset)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((fraction, reset)) = scarcest {
        reading.remaining_fraction = Some(fraction);
        let wait = reset.unwrap_or(ASSUMED_RESET).min(MAX_HORIZON);
        reading.reset_at = now.checked_add(wait);
    }
    reading
}

/// One rate-limit dimension as announced; the reset as a wait from now.
#[derive(Debug, Clone, Copy, Default)]
struct Dimension {
    limit: Option<f64>,
    remaining: Option<f64>,
    reset: Option<Duration>,
}

impl Dimension {
    fn fraction(&self) -> Option<f64> {
        match (self.remaining, self.limit) {
            // A zero limit says nothing usable about the share left.
            (Some(remaining), Some(limit)) if limit > 0.0 => Some((remaining / limit).min(1.0)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Limit,
    Remaining,
    Reset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `anthropic-ratelimit-<dim>-<field>`, resets as RFC 3339 times.
    Anthropic,
    /// `x-ratelimit-<field>-<dim>`, resets as durations.
    OpenAi,
}

/// Every dimension read: its style and its name in the header.
const DIMENSIONS: [(Style, &str); 6] = [
    (Style::Anthropic, "requests"),
    (Style::Anthropic, "tokens"),
    (Style::Anthropic, "input-tokens"),
    (Style::Anthropic, "output-tokens"),
    (Style::OpenAi, "requests"),
    (Style::OpenAi, "tokens"),
];

/// The dimension (index into [`DIMENSIONS`]) and field a header name announces.
fn dimension_header(name: &str) -> Option<(usize, Field)> {
    const FIELDS: [(Field, &str); 3] = [
        (Field::Limit, "limit"),
        (Field::Remaining, "remaining"),
        (Field::Reset, "reset"),
    ];
    if let Some(rest) = name.strip_prefix("anthropic-ratelimit-") {
        for (field, suffix) in FIELDS {
            if let Some(dim) = rest.strip_suffix(suffix).and_then(|d| d.strip_suffix('-')) {
                return find(Style::Anthropic, dim).map(|i| (i, field));
            }
        }
    } else if let Some(rest) = name.strip_prefix("x-ratelimit-") {
        for (field, prefix) in FIELDS {
            if let Some(dim) = rest.strip_prefix(prefix).and_then(|d| d.strip_prefix('-')) {
                return find(Style::OpenAi, dim).map(|i| (i, field));
            }
        }
    }
    None
}

fn find(style: Style, dim: &str) -> Option<usize> {
    DIMENSIONS.iter().position(|&(s, d)| s == style && d == dim)
}

fn parse_reset(dim: usize, value: &str, now_unix_ms: i64) -> Option<Duration> {
    match DIMENSIONS[dim].0 {
        Style::Anthropic => until_unix_ms(parse_rfc3339(value)?, now_unix_ms),
        Style::OpenAi => parse_go_duration(value),
    }
}

/// `retry-after`: delta-seconds (fractional accepted, as some upstreams send them) or an
/// HTTP date.
fn parse_retry_after(value: &str, now_unix_ms: i64) -> Option<Duration> {
    match parse_number(value) {
        Some(secs) => secs_to_duration(secs),
        None => until_unix_ms(parse_http_date(value)?, now_unix_ms),
    }
}

/// A finite, non-negative decimal number (digits with at most one point; no sign, exponent,
/// `inf` or `nan`, which `f64::from_str` would accept).
fn parse_number(s: &str) -> Option<f64> {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let points = s.bytes().filter(|&b| b == b'.').count();
    if digits == 0 || points > 1 || digits + points != s.len() {
        return None;
    }
    s.parse().ok()
}

fn secs_to_duration(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .map(|d| d.min(MAX_HORIZON))
}

/// The wait from `now_unix_ms` until `at_unix_ms`: zero when it is past, capped at the horizon.
fn until_unix_ms(at_unix_ms: i64, now_unix_ms: i64) -> Option<Duration> {
    let ms = at_unix_ms.saturating_sub(now_unix_ms).max(0);
    Some(Duration::from_millis(ms.unsigned_abs()).min(MAX_HORIZON))
}

/// A Go `time.Duration` string as OpenAI sends them: `1s`, `6m0s`, `20ms`, `1h2m3.5s`; units
/// h, m, s, ms, us (µs), ns, each number possibly fractional. A bare number reads as seconds.
pub(crate) fn parse_go_duration(s: &str) -> Option<Duration> {
    if let Some(secs) = parse_number(s) {
        return secs_to_duration(secs);
    }
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total = 0.0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = parse_number(&rest[..number_len])?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" | "μs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    secs_to_duration(total)
}

/// RFC 3339 (`2024-04-11T21:31:00Z`, `2024-04-11t21:31:00.25+02:00`) as Unix milliseconds.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // ASCII only, so every slice below falls on a character boundary.
    if !s.is_ascii()
        || b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = digits(&s[0..4])?;
    let month = digits(&s[5..7])?;
    let day = digits(&s[8..10])?;
    let (hour, minute, second) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let len = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if len == 0 {
            return None;
        }
        // Milliseconds are all a reset time needs; finer digits are dropped, not rounded.
        let ms = &frac[..len.min(3)];
        millis = digits(ms)? * 10i64.pow(3 - ms.len() as u32);
        rest = &frac[len..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let ob = rest.as_bytes();
            if ob.len() != 6 || ob[3] != b':' {
                return None;
            }
            let sign = match ob[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
    };
    let secs = civil_secs(year, month, day, hour, minute, second)?;
    Some((secs - offset_minutes * 60) * 1000 + millis)
}

/// An HTTP date in the IMF-fixdate form every current server sends
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix milliseconds. The obsolete RFC 850 and asctime
/// forms read as `None`.
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    const WEEKDAYS: [&str; 7] = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // ASCII only, so the time's slices below fall on character boundaries.
    if !s.is_ascii() {
        return None;
    }
    let parts: Vec<&str> = s.split_ascii_whitespace().collect();
    let [weekday, day, month, year, time, "GMT"] = parts[..] else {
        return None;
    };
    if !WEEKDAYS.contains(&weekday) || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let month = MONTHS.iter().position(|&m| m == month)? as i64 + 1;
    let t = time.as_bytes();
    if t.len() != 8 || t[2] != b':' || t[5] != b':' {
        return None;
    }
    let (hour, minute, second) = (
        digits(&time[0..2])?,
        digits(&time[3..5])?,
        digits(&time[6..8])?,
    );
    let secs = civil_secs(digits(year)?, month, digits(day)?, hour, minute, second)?;
    Some(secs * 1000)
}

/// ASCII digits only (no sign), as a number.
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Seconds since the Unix epoch of a UTC civil time, with every field range-checked. A leap
/// second (:60) reads as the next second, which is all a reset time needs.
fn civil_secs(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::test_clock::t0;

    /// 2024-04-11T21:30:00Z, the wall-clock time of every test's `t0()`.
    const NOW_MS: i64 = 1_712_871_000_000;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn read(headers: &[(&str, &str)], now: Instant) -> QuotaReading {
        read_quota(headers.iter().copied(), now, NOW_MS)
    }

    #[test]
    fn anthropic_headers_take_the_scarcest_dimension_and_its_reset() {
        let t = t0();
        let reading = read(
            &[
                ("anthropic-ratelimit-requests-limit", "50"),
                ("anthropic-ratelimit-requests-remaining", "40"),
                ("anthropic-ratelimit-requests-reset", "2024-04-11T21:30:01Z"),
                ("anthropic-ratelimit-tokens-limit", "100000"),
                ("anthropic-ratelimit-tokens-remaining", "30000"),
                ("anthropic-ratelimit-tokens-reset", "2024-04-11T21:31:00Z"),
                ("anthropic-ratelimit-input-tokens-limit", "80000"),
                ("anthropic-ratelimit-input-tokens-remaining", "4000"),
                (
                    "anthropic-ratelimit-input-tokens-reset",
                    "2024-04-11T23:30:30.5+02:00",
                ),
                ("anthropic-ratelimit-output-tokens-limit", "20000"),
                ("anthropic-ratelimit-output-tokens-remaining", "19000"),
                ("content-type", "application/json"),
            ],
            t,
        );
        assert_eq!(
            reading,
            QuotaReading {
                remaining_fraction: Some(0.05),
                reset_at: Some(t + ms(30_500)),
                retry_after: None,
            }
        );
        assert_eq!(reading.fraction_at(t + ms(30_499)), Some(0.05));
        assert_eq!(reading.fraction_at(t + ms(30_500)), None, "refilled");
    }

    #[test]
    fn openai_headers_with_go_durations() {
        let t = t0();
        let reading = read(
            &[
                ("x-ratelimit-limit-requests", "10000"),
                ("x-ratelimit-remaining-requests", "9999"),
                ("x-ratelimit-reset-requests", "6ms"),
                ("x-ratelimit-limit-tokens", "1000000"),
                ("x-ratelimit-remaining-tokens", "500000"),
                ("x-ratelimit-reset-tokens", "1h2m3.5s"),
            ],
            t,
        );
        assert_eq!(reading.remaining_fraction, Some(0.5));
        assert_eq!(reading.reset_at, Some(t + ms(3_723_500)));
        assert_eq!(reading.retry_after, None);
    }

    #[test]
    fn partial_and_odd_dimensions() {
        let t = t0();
        // Remaining without a limit (Azure sends this), or a zero limit: no fraction.
        let reading = read(
            &[
                ("x-ratelimit-remaining-requests", "12"),
                ("x-ratelimit-reset-requests", "1s"),
                ("anthropic-ratelimit-tokens-limit", "0"),
                ("anthropic-ratelimit-tokens-remaining", "0"),
            ],
            t,
        );
        assert_eq!(reading, QuotaReading::default());
        // No reset header: trusted for the assumed minute. More remaining than the limit
        // (a provider raising a limit mid-window) reads as full.
        let reading = read(
            &[
                ("x-ratelimit-limit-tokens", "100"),
                ("x-ratelimit-remaining-tokens", "150"),
            ],
            t,
        );
        assert_eq!(reading.remaining_fraction, Some(1.0));
        assert_eq!(reading.reset_at, Some(t + ASSUMED_RESET));
        // A reset in the past refills at once; one past the horizon is capped; garbage in
        // one dimension does not spoil the other.
        let reading = read(
            &[
                ("anthropic-ratelimit-requests-limit", "10"),
                ("anthropic-ratelimit-requests-remaining", "0"),
                ("anthropic-ratelimit-requests-reset", "2024-04-11T21:00:00Z"),
                ("anthropic-ratelimit-tokens-limit", "lots"),
                ("anthropic-ratelimit-tokens-remaining", "-5"),
            ],
            t,
        );
        assert_eq!(reading.remaining_fraction, Some(0.0));
        assert_eq!(reading.reset_at, Some(t));
        assert_eq!(reading.fraction_at(t), None);
        let reading = read(
            &[
                ("x-ratelimit-limit-requests", "10"),
                ("x-ratelimit-remaining-requests", "1"),
                ("x-ratelimit-reset-requests", "9999h"),
            ],
            t,
        );
        assert_eq!(reading.reset_at, Some(t + MAX_HORIZON));
        // Unknown dimensions and look-alike names are ignored.
        let reading = read(
            &[
                ("x-ratelimit-limit-images", "10"),
                ("x-ratelimit-remaining-images", "0"),
                ("anthropic-ratelimit-requests", "0"),
                ("anthropic-ratelimit--limit", "1"),
                ("x-ratelimit-limit", "1"),
            ],
            t,
        );
        assert_eq!(reading, QuotaReading::default());
    }

    #[test]
    fn retry_after_forms() {
        let t = t0();
        let ra = |headers: &[(&str, &str)]| read(headers, t).retry_after;
        assert_eq!(ra(&[("retry-after", "30")]), Some(ms(30_000)));
        assert_eq!(ra(&[("retry-after", " 1.5 ")]), Some(ms(1500)));
        assert_eq!(ra(&[("retry-after", "0")]), Some(Duration::ZERO));
        assert_eq!(
            ra(&[("retry-after", "Thu, 11 Apr 2024 21:31:30 GMT")]),
            Some(ms(90_000))
        );
        assert_eq!(
            ra(&[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]),
            Some(Duration::ZERO),
            "a date in the past: now"
        );
        assert_eq!(ra(&[("retry-after", "99999999")]), Some(MAX_HORIZON));
        for garbage in [
            "", "-1", "soon", "1e3", "inf", "NaN", "0x10", "1,5", "1.2.3",
        ] {
            assert_eq!(ra(&[("retry-after", garbage)]), None, "{garbage:?}");
        }
        // The millisecond header is the more precise and wins, in either order.
        let both = [("retry-after", "5"), ("retry-after-ms", "250")];
        assert_eq!(ra(&both), Some(ms(250)));
        assert_eq!(ra(&[both[1], both[0]]), Some(ms(250)));
        assert_eq!(
            ra(&[("retry-after-ms", "12.5")]),
            Some(Duration::from_micros(12_500))
        );
        assert_eq!(
            ra(&[("retry-after-ms", "x"), ("retry-after", "2")]),
            Some(ms(2000))
        );
    }

    #[test]
    fn go_durations() {
        let table = [
            ("1s", Some(ms(1000))),
            ("6m0s", Some(ms(360_000))),
            ("20ms", Some(ms(20))),
            ("1h2m3.5s", Some(ms(3_723_500))),
            ("2m59.56s", Some(ms(179_560))),
            ("0s", Some(Duration::ZERO)),
            ("1.5", Some(ms(1500))),
            ("250us", Some(Duration::from_micros(250))),
            ("250µs", Some(Duration::from_micros(250))),
            ("1500000ns", Some(Duration::from_micros(1500))),
            ("", None),
            ("s", None),
            ("1x", None),
            ("1s2", None),
            ("1h-2m", None),
            ("-1s", None),
            ("1..5s", None),
            (".s", None),
            ("1 s", None),
            ("1S", None),
        ];
        for (text, want) in table {
            let got = parse_go_duration(text);
            // Fractions go through f64: compare to the microsecond.
            let close = match (got, want) {
                (Some(g), Some(w)) => g.abs_diff(w) < Duration::from_micros(1),
                (g, w) => g == w,
            };
            assert!(close, "{text:?}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn rfc3339_times() {
        let table = [
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2024-04-11T21:31:00Z", Some(1_712_871_060_000)),
            ("2024-04-11t21:31:00z", Some(1_712_871_060_000)),
            ("2024-04-11 21:31:00Z", Some(1_712_871_060_000)),
            ("2024-04-11T23:31:00+02:00", Some(1_712_871_060_000)),
            ("2024-04-11T20:01:00-01:30", Some(1_712_871_060_000)),
            ("2000-03-01T00:00:00Z", Some(951_868_800_000)),
            ("2024-02-29T23:59:59.25Z", Some(1_709_251_199_250)),
            ("2024-02-29T23:59:59.250999999Z", Some(1_709_251_199_250)),
            ("1969-12-31T23:59:59Z", Some(-1000)),
            ("2023-02-29T00:00:00Z", None),
            ("1900-02-29T00:00:00Z", None),
            ("2024-13-01T00:00:00Z", None),
            ("2024-00-01T00:00:00Z", None),
            ("2024-04-31T00:00:00Z", None),
            ("2024-04-11T24:00:00Z", None),
            ("2024-04-11T21:60:00Z", None),
            ("2024-04-11T21:31:61Z", None),
            ("2024-04-11T21:31:00", None),
            ("2024-04-11T21:31:00.Z", None),
            ("2024-04-11T21:31:00+2:00", None),
            ("2024-04-11T21:31:00+24:00", None),
            ("2024-04-11T21:31:00Z ", None),
            ("2024-04-11X21:31:00Z", None),
            ("+024-04-11T21:31:00Z", None),
            ("2024-04-11T21:31:00é", None),
            ("", None),
        ];
        for (text, want) in table {
            assert_eq!(parse_rfc3339(text), want, "{text:?}");
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nvm 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37é GMT",
            "Sun, 06 Nov 1994 0é:49:3 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn no_input_makes_a_parser_panic() {
        let samples = [
            "2024-04-11T23:31:00.123+02:00",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "1h2m3.5s",
            "250µs",
        ];
        let t = t0();
        for sample in samples {
            let mut variants = Vec::new();
            for (i, _) in sample.char_indices() {
                variants.push(sample[..i].to_string());
                variants.push(sample[i..].to_string());
                let mut with_wide = sample.to_string();
                with_wide.insert(i, 'é');
                variants.push(with_wide);
                let mut with_digit = sample.to_string();
                with_digit.replace_range(
                    i..i + sample[i..].chars().next().map_or(0, char::len_utf8),
                    "9",
                );
                variants.push(with_digit);
            }
            for v in &variants {
                let _ = parse_rfc3339(v);
                let _ = parse_http_date(v);
                let _ = parse_go_duration(v);
                let _ = read(
                    &[
                        ("retry-after", v),
                        ("anthropic-ratelimit-tokens-reset", v),
                        ("x-ratelimit-reset-tokens", v),
                        ("x-ratelimit-limit-tokens", v),
                    ],
                    t,
                );
            }
        }
        // Extreme clocks: the wall clock at either end of i64.
        for now_ms in [i64::MIN, i64::MAX, 0] {
            let _ = read_quota(
                [
                    ("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"),
                    ("anthropic-ratelimit-tokens-reset", "9999-12-31T23:59:59Z"),
                    ("anthropic-ratelimit-tokens-limit", "1"),
                    ("anthropic-ratelimit-tokens-remaining", "1"),
                ],
                t,
                now_ms,
            );
        }
    }

    #[test]
    fn protection_rule() {
        let table = [
            (Some(0.05), 0.10, true),
            (Some(0.0), 0.10, true),
            (Some(0.10), 0.10, false),
            (Some(0.5), 0.10, false),
            (None, 0.10, false),
            (Some(0.0), 0.0, false),
            (Some(0.05), f64::NAN, false),
        ];
        for (fraction, threshold, want) in table {
            assert_eq!(
                protected(fraction, threshold),
                want,
                "{fraction:?} < {threshold}"
            );
        }
    }
}
