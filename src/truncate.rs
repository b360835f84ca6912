//! Cutting text to a byte budget on a character boundary, saying that it was cut. Used for
//! tool output sent to the model and for run output kept in the job store.

/// `text` if it fits in `max_bytes`, else its first `max_bytes` (on a character boundary)
/// followed by a note with the full size.
pub fn to_bytes(text: String, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated, {} bytes in all]", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_on_a_char_boundary_with_a_note() {
        let cut = to_bytes("é".repeat(10), 5);
        assert_eq!(cut, "éé… [truncated, 20 bytes in all]");
        assert_eq!(to_bytes("short".into(), 5), "short");
    }
}
