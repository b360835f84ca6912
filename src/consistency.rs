//! Rules that stay consistent (SPEC §3.2): what a rule is about (the language of replies,
//! their length, tone, emoji, how to address the user, their format), and whether a new rule
//! replaces a kept one — the newer instruction on the same subject wins, while a rule that
//! narrows itself to a condition ("use tables for comparisons" after "no tables") or is about
//! something else is kept beside it. English and Indonesian; pure and fast.

/// What a standing instruction is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Address,
    Emoji,
    Tone,
    Language,
    Format,
    Length,
}

/// Words that name each subject, in the order subjects are tried (the first that matches is
/// the rule's subject). Matched as whole words of the lower-cased rule; a phrase is a run of
/// words.
const LEXICON: &[(Subject, &[&str])] = &[
    (
        Subject::Address,
        &[
            "call me",
            "address me",
            "refer to me",
            "panggil aku",
            "panggil saya",
            "panggil gue",
            "sebut aku",
            "sebut saya",
            "my name is",
            "nama aku",
            "nama saya",
        ],
    ),
    (
        Subject::Emoji,
        &[
            "emoji",
            "emojis",
            "emoticon",
            "emoticons",
            "emotikon",
            "smiley",
            "smileys",
        ],
    ),
    (
        Subject::Tone,
        &[
            "formal",
            "formally",
            "informal",
            "casual",
            "casually",
            "polite",
            "politely",
            "friendly",
            "professional",
            "professionally",
            "sopan",
            "santai",
            "resmi",
            "baku",
            "gaul",
            "serious",
            "playful",
            "funny",
            "humor",
            "humour",
            "lucu",
        ],
    ),
    (
        Subject::Language,
        &[
            "english",
            "inggris",
            "indonesian",
            "indonesia",
            "bahasa",
            "spanish",
            "french",
            "german",
            "dutch",
            "japanese",
            "chinese",
            "mandarin",
            "arabic",
            "javanese",
            "jawa",
            "sundanese",
            "sunda",
            "malay",
            "melayu",
            "portuguese",
            "italian",
            "korean",
            "language",
            "languages",
        ],
    ),
    (
        Subject::Format,
        &[
            "bullet",
            "bullets",
            "bullet points",
            "table",
            "tables",
            "tabel",
            "heading",
            "headings",
            "header",
            "headers",
            "judul",
            "markdown",
            "plain text",
            "code only",
            "only code",
            "numbered list",
            "list",
            "lists",
            "poin",
            "daftar",
            "paragraph",
            "paragraphs",
            "paragraf",
        ],
    ),
    (
        Subject::Length,
        &[
            "short",
            "shorter",
            "brief",
            "briefly",
            "concise",
            "concisely",
            "long",
            "longer",
            "detail",
            "detailed",
            "details",
            "lengthy",
            "verbose",
            "words",
            "sentences",
            "sentence",
            "singkat",
            "pendek",
            "panjang",
            "rinci",
            "ringkas",
            "padat",
            "detil",
            "kata",
            "kalimat",
        ],
    ),
];

/// Words that narrow a rule to a condition: such a rule refines, it does not replace.
const CONDITIONS: &[&str] = &[
    "when",
    "whenever",
    "if",
    "for",
    "unless",
    "except",
    "only for",
    "kalau",
    "jika",
    "bila",
    "apabila",
    "untuk",
    "saat",
    "ketika",
    "kecuali",
    "tiap kali",
    "setiap kali",
];

/// The rule's subject, if it has one we know.
pub fn subject(rule: &str) -> Option<Subject> {
    let words = words(rule);
    LEXICON
        .iter()
        .find(|(_, names)| names.iter().any(|name| contains_phrase(&words, name)))
        .map(|(subject, _)| *subject)
}

/// Whether the rule narrows itself to a condition ("… for comparisons", "kalau …").
fn is_conditional(rule: &str) -> bool {
    let words = words(rule);
    CONDITIONS
        .iter()
        .any(|condition| contains_phrase(&words, condition))
}

/// Whether `new` replaces `old`: both about the same subject, neither narrowed to a condition.
/// A rule that says what a kept rule says in other words replaces it too (one rule per
/// instruction).
pub fn replaces(new: &str, old: &str) -> bool {
    match (subject(new), subject(old)) {
        (Some(a), Some(b)) if a == b => !is_conditional(new) && !is_conditional(old),
        _ => false,
    }
}

/// Lower-case words, punctuation dropped (apostrophes kept inside words).
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|word| !word.is_empty())
        .map(str::to_string)
        .collect()
}

fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let phrase: Vec<&str> = phrase.split(' ').collect();
    words
        .windows(phrase.len())
        .any(|window| window.iter().zip(&phrase).all(|(word, part)| word == part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_subject_is_recognised_in_both_languages() {
        for (rule, expected) in [
            ("answer in English", Subject::Language),
            ("jawab pakai bahasa Indonesia", Subject::Language),
            ("keep it short", Subject::Length),
            ("jelaskan secara rinci", Subject::Length),
            ("be more formal", Subject::Tone),
            ("pakai bahasa santai aja", Subject::Tone),
            ("don't use emojis", Subject::Emoji),
            ("jangan pakai emoji", Subject::Emoji),
            ("call me Budi", Subject::Address),
            ("panggil aku Pak", Subject::Address),
            ("use bullet points", Subject::Format),
            ("pakai tabel", Subject::Format),
        ] {
            assert_eq!(subject(rule), Some(expected), "{rule}");
        }
        assert_eq!(subject("always include the command"), None);
        assert_eq!(subject("use British spelling"), None);
    }

    #[test]
    fn the_newer_rule_on_a_subject_replaces_unless_it_narrows_or_differs() {
        // Contradictions on one subject, across languages.
        assert!(replaces(
            "answer in English",
            "jawab pakai bahasa Indonesia"
        ));
        assert!(replaces("keep it short", "explain in detail"));
        assert!(replaces("call me Budi", "call me Pak"));
        assert!(replaces("use emojis", "jangan pakai emoji"));
        assert!(replaces("answer formally", "be casual"));
        // The same instruction in other words: one rule.
        assert!(replaces("no emoji please", "don't use emojis"));
        // Refinements and other subjects are kept.
        assert!(!replaces("use British spelling", "answer in English"));
        assert!(!replaces("but always include the command", "keep it short"));
        assert!(!replaces("use tables for comparisons", "no tables"));
        assert!(!replaces(
            "kalau aku kirim kode, jelaskan singkat",
            "jelaskan secara rinci"
        ));
        assert!(!replaces("keep it short", "answer in English"));
    }
}
