//! What comes with a message (SPEC §3.0): piped stdin, `-f` files and URLs, each placed
//! before the message in a block that names its source. Reading is at the edge
//! (`read_file`); shaping (`compose`, `html_to_text`, `check_size`) is pure.

use crate::chat::Image;
use crate::error::{Error, Result};
use std::path::Path;

/// One piece of input and where it came from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Piece {
    /// `stdin`, `file notes.txt` or `url https://…`, as the block names it.
    pub source: String,
    pub text: String,
    /// An image instead of text (SPEC §15): it goes as an image part, not a block.
    pub image: Option<Image>,
}

/// The media type of an image told by its first bytes: JPEG, PNG, GIF or WebP.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// An image piece from its bytes; over `limit` bytes it is refused, saying by how much.
pub fn image_piece(bytes: &[u8], media_type: &str, source: &str, limit: u64) -> Result<Piece> {
    let size = bytes.len() as u64;
    if size > limit {
        return Err(Error::Input(format!(
            "{source} is an image of {size} bytes, {} over the limit of {limit} \
             (`limits.image_bytes` in the config)",
            size - limit
        )));
    }
    Ok(Piece {
        source: source.to_string(),
        text: String::new(),
        image: Some(Image {
            media_type: media_type.to_string(),
            base64: crate::deliver::mime::base64(bytes),
            source: source.to_string(),
            bytes: bytes.len(),
        }),
    })
}

/// The images among the pieces, in order.
pub fn images(pieces: &[Piece]) -> Vec<Image> {
    pieces
        .iter()
        .filter_map(|piece| piece.image.clone())
        .collect()
}

/// The user message of a turn: each piece in its block, in order, then the typed message.
pub fn compose(pieces: &[Piece], message: &str) -> String {
    let mut text = String::new();
    for piece in pieces.iter().filter(|piece| piece.image.is_none()) {
        text.push_str(&format!("<input source=\"{}\">\n", piece.source));
        text.push_str(piece.text.trim_end_matches('\n'));
        text.push_str("\n</input>\n\n");
    }
    text.push_str(message);
    text
}

/// Refuses input larger than `limit` bytes, saying by how much: never a silent cut.
pub fn check_size(pieces: &[Piece], message: &str, limit: u64) -> Result<()> {
    let total = message.len() as u64 + pieces.iter().map(|p| p.text.len() as u64).sum::<u64>();
    if total > limit {
        return Err(Error::Input(format!(
            "the input is {total} bytes, {} over the limit of {limit} (`limits.input_bytes` in \
             the config)",
            total - limit
        )));
    }
    Ok(())
}

/// A file as a piece: it must be readable UTF-8 text.
pub fn read_file(path: &Path, image_limit: u64) -> Result<Piece> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|error| Error::Input(format!("cannot read input file `{shown}`: {error}")))?;
    // An image is told by its first bytes, whatever its name says.
    if let Some(media_type) = image_type(&bytes) {
        return image_piece(&bytes, media_type, &format!("file {shown}"), image_limit);
    }
    Ok(Piece {
        source: format!("file {shown}"),
        text: text_of(bytes, &format!("input file `{shown}`"))?,
        image: None,
    })
}

/// Bytes as text, or an error naming `what`: a NUL or invalid UTF-8 means a binary file.
pub fn text_of(bytes: Vec<u8>, what: &str) -> Result<String> {
    if bytes.contains(&0) {
        return Err(Error::Input(format!("{what} is binary, not text")));
    }
    String::from_utf8(bytes).map_err(|_| Error::Input(format!("{what} is not UTF-8 text")))
}

/// The readable text of an HTML page: no scripts, styles, comments or tags; block elements
/// become line breaks; entities decoded; runs of blank space folded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..open]));
        rest = &rest[open..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(close) = rest.find('>') else {
            rest = "";
            break;
        };
        let tag = rest[1..close].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        rest = &rest[close + 1..];
        if (name == "script" || name == "style") && !rest.is_empty() {
            // Skip to the matching end tag, whatever the case.
            let end = format!("</{name}");
            rest = match rest.to_ascii_lowercase().find(&end) {
                Some(at) => rest[at..].find('>').map_or("", |gt| &rest[at + gt + 1..]),
                None => "",
            };
            continue;
        }
        const BLOCKS: &[&str] = &[
            "p",
            "br",
            "div",
            "li",
            "ul",
            "ol",
            "tr",
            "table",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "section",
            "article",
            "header",
            "footer",
            "pre",
            "blockquote",
            "title",
        ];
        if BLOCKS.contains(&name.as_str()) {
            out.push('\n');
        }
    }
    out.push_str(&decode_entities(rest));
    fold_space(&out)
}

/// `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` `&#39;` `&nbsp;` and numeric references.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest
            .find(';')
            .filter(|&end| end <= 10)
            .map(|end| (&rest[1..end], end));
        let decoded = entity.and_then(|(name, end)| {
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => ' ',
                _ => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Spaces and tabs folded to one, each line trimmed, at most one blank line in a row.
fn fold_space(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let folded = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if folded.is_empty() && lines.last().is_none_or(|last| last.is_empty()) {
            continue;
        }
        lines.push(folded);
    }
    while lines.last().is_some_and(|last| last.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_come_before_the_message_each_in_a_block_naming_its_source() {
        let pieces = [
            Piece {
                source: "stdin".into(),
                text: "line one\nline two\n".into(),
                image: None,
            },
            Piece {
                source: "file notes.txt".into(),
                text: "note".into(),
                image: None,
            },
        ];
        assert_eq!(
            compose(&pieces, "anything alarming?"),
            "<input source=\"stdin\">\nline one\nline two\n</input>\n\n\
             <input source=\"file notes.txt\">\nnote\n</input>\n\nanything alarming?"
        );
        assert_eq!(compose(&[], "hi"), "hi");
    }

    #[test]
    fn images_are_told_by_their_first_bytes_and_capped() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a.."), Some("image/gif"));
        assert_eq!(image_type(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"plain text"), None);
        let piece = image_piece(b"GIF89a", "image/gif", "file a.gif", 6).unwrap();
        assert_eq!(piece.image.unwrap().base64, "R0lGODlh");
        let error = image_piece(b"GIF89a!!", "image/gif", "file a.gif", 6).unwrap_err();
        assert!(
            error.to_string().contains("2 over the limit of 6"),
            "{error}"
        );
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn input_over_the_limit_is_refused_saying_by_how_much() {
        let pieces = [Piece {
            source: "stdin".into(),
            text: "x".repeat(100),
            image: None,
        }];
        assert!(check_size(&pieces, "hello", 105).is_ok());
        let error = check_size(&pieces, "hello", 100).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error
                .to_string()
                .contains("105 bytes, 5 over the limit of 100"),
            "{error}"
        );
    }

    #[test]
    fn binary_and_non_utf8_bytes_are_not_text() {
        assert!(text_of(b"fine\n".to_vec(), "f").is_ok());
        assert!(
            text_of(b"\x7fELF\0\0".to_vec(), "f")
                .unwrap_err()
                .to_string()
                .contains("binary")
        );
        assert!(
            text_of(vec![0xff, 0xfe, b'a'], "f")
                .unwrap_err()
                .to_string()
                .contains("UTF-8")
        );
    }

    #[test]
    fn html_becomes_its_readable_text() {
        let html = "<html><head><title>Status</title><style>p{color:red}</style>\
                    <script>var a = '<p>not text</p>';</script></head><body>\
                    <!-- a comment <b>hidden</b> --><h1>All&nbsp;good</h1>\
                    <p>Disk: 42&#37; &amp; load &lt; 1 &#x2014; fine</p>\
                    <SCRIPT type=x>alert(1)</SCRIPT><ul><li>one</li><li>two</li></ul>\
                    &bogus; &amp</body></html>";
        assert_eq!(
            html_to_text(html),
            "Status\n\nAll good\n\nDisk: 42% & load < 1 — fine\n\none\n\ntwo\n\n&bogus; &amp"
        );
    }
}
