//! The names users give jobs and sessions (SPEC §5): what makes one acceptable.

use crate::error::{Error, Result};

/// The longest job or session name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Checks the name of a job or a session (`what`, SPEC §5): 1–64 characters, no control
/// characters, no space at either end, so that it prints on one line and can be typed back.
pub fn check_name(what: &str, name: &str) -> Result<()> {
    let problem = if name.is_empty() {
        Some("cannot be empty".to_string())
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some(format!("is longer than {MAX_NAME_CHARS} characters"))
    } else if name.chars().any(char::is_control) {
        Some("contains a control character (a newline or tab, say)".to_string())
    } else if name.trim() != name {
        Some("starts or ends with a space".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::Usage(format!(
            "a {what} name {problem}: use 1 to {MAX_NAME_CHARS} characters, like `morning-digest`"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_printable_line_of_at_most_64_characters() {
        for good in ["a", "morning-digest", "é".repeat(64).as_str(), "two words"] {
            assert!(check_name("job", good).is_ok(), "{good:?}");
        }
        for bad in ["", "a\nb", "tab\there", " lead", "trail ", &"x".repeat(65)] {
            let error = check_name("job", bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}");
        }
    }
}
