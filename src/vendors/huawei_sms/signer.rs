//! `SDK-HMAC-SHA256`, the request signature of Huawei Cloud's SDKs (vendor-apis.md §5.2 B):
//! the canonical request, the string to sign, the signature, and the `Authorization`
//! header that carries it. The client signs with it and the lab verifies with it; the
//! known vectors below were computed independently of this code.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name, first in the `Authorization` header and the string to sign.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The signing time header, e.g. `20250103T090849Z`.
pub const DATE_HEADER: &str = "X-Sdk-Date";
/// How far the signing time may be from the gateway's clock (§5.2 B).
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// What is signed of a request. Header names may have any case; values are trimmed.
#[derive(Clone, Debug)]
pub struct Signable<'a> {
    pub method: &'a str,
    /// The path as sent, percent-encoded.
    pub path: &'a str,
    /// Query pairs, decoded.
    pub query: &'a [(String, String)],
    /// The headers to sign; names containing `_` are left out (step 3).
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The parts of an `Authorization: SDK-HMAC-SHA256 …` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

// Leaves the signature out: it would let anyone replay the request.
debug_showing_only!(Authorization: access_key, signed_headers);

/// Signs `request` with `secret_key` at `date` (an `X-Sdk-Date` value, which must be
/// among the signed headers); answers the hex signature and the signed header names.
pub fn sign(request: &Signable<'_>, date: &str, secret_key: &[u8]) -> (String, Vec<String>) {
    let (canonical, signed) = canonical_request(request);
    (
        signature(secret_key, &string_to_sign(date, &canonical)),
        signed,
    )
}

/// The `Authorization` header value.
pub fn authorization(access_key: &str, signed_headers: &[String], signature: &str) -> String {
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={signature}",
        signed_headers.join(";")
    )
}

/// Reads an `Authorization` header of this algorithm; `None` when it is not one.
pub fn parse_authorization(value: &str) -> Option<Authorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?;
    let (mut access_key, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        match key.trim() {
            "Access" => access_key = Some(value.trim().to_owned()),
            "SignedHeaders" => {
                signed_headers = Some(value.trim().split(';').map(str::to_owned).collect());
            }
            "Signature" => signature = Some(value.trim().to_owned()),
            _ => return None,
        }
    }
    Some(Authorization {
        access_key: access_key?,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}

/// Step 5: the canonical request, and the signed header names (step 3).
pub fn canonical_request(request: &Signable<'_>) -> (String, Vec<String>) {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .filter(|(name, _)| !name.contains('_'))
        .collect();
    headers.sort();
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed: Vec<String> = headers.into_iter().map(|(name, _)| name).collect();
    let canonical = [
        request.method.to_ascii_uppercase(),
        canonical_uri(request.path),
        canonical_query(request.query),
        canonical_headers,
        signed.join(";"),
        hex(&Sha256::digest(request.body)),
    ]
    .join("\n");
    (canonical, signed)
}

/// Step 6.
pub fn string_to_sign(date: &str, canonical_request: &str) -> String {
    let hash = hex(&Sha256::digest(canonical_request.as_bytes()));
    format!("{ALGORITHM}\n{date}\n{hash}")
}

/// Step 7: hex HMAC-SHA256 keyed with the secret key.
pub fn signature(secret_key: &[u8], string_to_sign: &str) -> String {
    hex(&mac(secret_key, string_to_sign).finalize().into_bytes())
}

/// Whether `given` (hex) is the signature of `string_to_sign`, compared in constant time.
pub fn verify(secret_key: &[u8], string_to_sign: &str, given: &str) -> bool {
    let Some(bytes) = unhex(given) else {
        return false;
    };
    mac(secret_key, string_to_sign).verify_slice(&bytes).is_ok()
}

fn mac(secret_key: &[u8], text: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(text.as_bytes());
    mac
}

/// Step 1: decode the path, encode each segment, end with `/`.
pub fn canonical_uri(path: &str) -> String {
    let mut uri = path
        .split('/')
        .map(|segment| encode(&decode(segment)))
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Step 2: pairs sorted by key, then value, each encoded.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    sorted
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A query string as sent: pairs encoded the same way as when signed.
pub fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The decoded pairs of a raw query string (`+` is a space, as in forms).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode_form = |text: &str| decode(&text.replace('+', " "));
            (decode_form(key), decode_form(value))
        })
        .collect()
}

/// `X-Sdk-Date` for `at`: UTC in the basic ISO format, e.g. `20250103T090849Z`.
pub fn sdk_date(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at)
        .to_string()
        .replace(['-', ':'], "")
}

/// Reads an `X-Sdk-Date` value.
pub fn parse_sdk_date(text: &str) -> Option<SystemTime> {
    let t = text.trim();
    let ok = t.len() == 16
        && t.as_bytes()[8] == b'T'
        && t.ends_with('Z')
        && t[..8]
            .bytes()
            .chain(t[9..15].bytes())
            .all(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &t[..4],
        &t[4..6],
        &t[6..8],
        &t[9..11],
        &t[11..13],
        &t[13..15]
    );
    humantime::parse_rfc3339(&rfc3339).ok()
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - _ . ~`.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-decoding; a `%` not followed by two hex digits stays as it is.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex_pair = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex_pair) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests;
