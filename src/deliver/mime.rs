//! The few mail and header encodings deliveries need: base64, RFC 2047 encoded words for
//! non-ASCII header text (ntfy's `Title`, a mail's `Subject`), and quoted-printable bodies.

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, byte)| n | u32::from(*byte) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Header text as it may travel: itself when it is printable ASCII, else one RFC 2047
/// encoded word per piece of at most 45 bytes (whole characters), separated by spaces.
pub fn header_text(text: &str) -> String {
    if text.bytes().all(|byte| (0x20..0x7f).contains(&byte)) {
        return text.to_string();
    }
    let mut words = Vec::new();
    let mut piece = String::new();
    for c in text.chars() {
        if piece.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", base64(piece.as_bytes())));
            piece.clear();
        }
        piece.push(c);
    }
    if !piece.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(piece.as_bytes())));
    }
    words.join(" ")
}

/// A body in quoted-printable (RFC 2045): lines of at most 76 characters, CRLF line ends,
/// `=` and bytes outside printable ASCII escaped, trailing white space protected.
pub fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push_str("\r\n");
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut width = 0;
        let bytes = line.as_bytes();
        for (at, &byte) in bytes.iter().enumerate() {
            let last = at + 1 == bytes.len();
            let plain = (byte == b' ' || byte == b'\t') && !last
                || (33..=126).contains(&byte) && byte != b'=';
            let piece = if plain {
                (byte as char).to_string()
            } else {
                format!("={byte:02X}")
            };
            if width + piece.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn non_ascii_header_text_becomes_encoded_words() {
        assert_eq!(header_text("backup: ok"), "backup: ok");
        assert_eq!(
            header_text("cadangan: gagal ✗"),
            "=?UTF-8?B?Y2FkYW5nYW46IGdhZ2FsIOKclw==?="
        );
        let long = header_text(&"é".repeat(40));
        assert!(long.split(' ').all(|word| word.len() <= 75), "{long}");
    }

    #[test]
    fn quoted_printable_escapes_and_wraps() {
        assert_eq!(quoted_printable("a=b"), "a=3Db");
        assert_eq!(quoted_printable("héllo\nbye "), "h=C3=A9llo\r\nbye=20");
        let wrapped = quoted_printable(&"x".repeat(200));
        assert!(
            wrapped.split("\r\n").all(|line| line.len() <= 76),
            "{wrapped}"
        );
        assert_eq!(wrapped.replace("=\r\n", ""), "x".repeat(200));
    }
}
