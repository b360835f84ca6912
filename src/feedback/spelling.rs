//! Informal spellings as people type them in chat, mapped to the forms the grammar knows:
//! Indonesian texting shorthand ("skrg", "jgn", "klo"), reduplication written with a digit
//! ("kata2"), run-together negations ("gausah") and English shorthand ("u", "frm", "pls").
//!
//! Only spellings that are unambiguous in a message to an assistant are listed: "ga" or "r"
//! mean too many things to rewrite, and a wrong rewrite would cost precision.

/// Shorthand and its written form, which may be more than one word.
const SPELLINGS: &[(&str, &str)] = &[
    // Indonesian
    ("skrg", "sekarang"),
    ("skrang", "sekarang"),
    ("skg", "sekarang"),
    ("sekarng", "sekarang"),
    ("jgn", "jangan"),
    ("jngn", "jangan"),
    ("jangn", "jangan"),
    ("gk", "gak"),
    ("ngga", "nggak"),
    ("engga", "nggak"),
    ("enggak", "nggak"),
    ("gausah", "gak usah"),
    ("gaush", "gak usah"),
    ("nggausah", "nggak usah"),
    ("dr", "dari"),
    ("drpd", "daripada"),
    ("klo", "kalau"),
    ("kl", "kalau"),
    ("kalo", "kalau"),
    ("km", "kamu"),
    ("kmu", "kamu"),
    ("slalu", "selalu"),
    ("sllu", "selalu"),
    ("slalau", "selalu"),
    ("tlg", "tolong"),
    ("tolongin", "tolong"),
    ("jwb", "jawab"),
    ("bhs", "bahasa"),
    ("lg", "lagi"),
    ("lgi", "lagi"),
    ("dlm", "dalam"),
    ("yg", "yang"),
    ("trs", "terus"),
    ("trus", "terus"),
    ("udh", "udah"),
    ("tp", "tapi"),
    ("utk", "untuk"),
    ("dgn", "dengan"),
    ("sy", "saya"),
    ("ak", "aku"),
    ("gua", "gue"),
    ("sm", "sama"),
    ("tiap2", "tiap"),
    ("kasi", "kasih"),
    ("kasii", "kasih"),
    ("pke", "pake"),
    ("sertain", "sertakan"),
    ("tampilin", "tampilkan"),
    ("pk", "pake"),
    // English
    ("u", "you"),
    ("ur", "your"),
    ("urs", "yours"),
    ("pls", "please"),
    ("plz", "please"),
    ("plis", "please"),
    ("pliss", "please"),
    ("frm", "from"),
    ("fwd", "forward"),
    ("forwrd", "forward"),
    ("foward", "forward"),
    ("fowrd", "forward"),
    ("thx", "thanks"),
    ("alwyas", "always"),
    ("allways", "always"),
    ("alwys", "always"),
    ("nvr", "never"),
    ("evry", "every"),
    ("everytime", "every time"),
    ("eachtime", "each time"),
    ("wont", "won't"),
    ("cant", "can't"),
    ("doesnt", "doesn't"),
    ("im", "i'm"),
];

/// The written form of one lower-case word, as one or more words.
pub fn written(word: &str) -> Vec<String> {
    let word = without_reduplication_digit(word);
    match SPELLINGS.iter().find(|(short, _)| *short == word) {
        Some((_, long)) => long.split(' ').map(str::to_string).collect(),
        None => vec![word.to_string()],
    }
}

/// "kata2" is "kata-kata", "maaf2" is "maaf-maaf": the base word is what the grammar knows.
fn without_reduplication_digit(word: &str) -> &str {
    match word.strip_suffix('2') {
        Some(base) if base.chars().count() >= 2 && base.chars().all(char::is_alphabetic) => base,
        _ => word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthand_is_written_out() {
        assert_eq!(written("skrg"), ["sekarang"]);
        assert_eq!(written("jgn"), ["jangan"]);
        assert_eq!(written("gausah"), ["gak", "usah"]);
        assert_eq!(written("frm"), ["from"]);
        assert_eq!(written("u"), ["you"]);
    }

    #[test]
    fn reduplication_digits_are_dropped_but_numbers_stay() {
        assert_eq!(written("kata2"), ["kata"]);
        assert_eq!(written("poin2"), ["poin"]);
        assert_eq!(written("2"), ["2"]);
        assert_eq!(written("h2"), ["h2"]);
        assert_eq!(written("b2b"), ["b2b"]);
        assert_eq!(written("10"), ["10"]);
    }

    #[test]
    fn ordinary_words_are_left_alone() {
        for word in ["always", "jawab", "sekarang", "emoji", "ga", "r"] {
            assert_eq!(written(word), [word]);
        }
    }
}
