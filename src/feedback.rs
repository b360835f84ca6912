//! Pure detection of feedback: does a message tell the assistant how to behave from now on?
//!
//! Precision comes before recall (SPEC §3.1): a false rule is injected into every later
//! request, while a missed one only costs the user an explicit `rule:` prefix. So an implicit
//! rule needs a standing-instruction cue *and* an instruction about the assistant's behaviour,
//! and questions never count.

/// The longest rule we keep, in characters.
pub const MAX_RULE_CHARS: usize = 500;

/// Prefixes that always mark feedback, compared case-insensitively.
const EXPLICIT_PREFIXES: &[&str] = &[
    "feedback:",
    "rule:",
    "remember:",
    "aturan:",
    "ingat:",
    "catatan:",
];

/// Phrases that make an instruction standing rather than one-off.
const STANDING_CUES: &[&str] = &[
    "from now on",
    "from here on",
    "from this point on",
    "going forward",
    "in the future",
    "in future",
    "next time",
    "henceforth",
    "for all future answers",
    "for future answers",
    "mulai sekarang",
    "mulai saat ini",
    "mulai hari ini",
    "mulai dari sekarang",
    "lain kali",
    "ke depannya",
    "kedepannya",
    "ke depan",
    "untuk selanjutnya",
    "selanjutnya",
    "seterusnya",
    "untuk ke depannya",
];

/// Words that make a habit out of the verb after them ("always reply", "jangan pakai").
const HABIT_WORDS: &[&str] = &[
    "always",
    "never",
    "don't",
    "dont",
    "do not",
    "stop",
    "avoid",
    "you should always",
    "you should never",
    "you must always",
    "you must never",
    "you should",
    "you must",
    "make sure to always",
    "make sure you always",
    "kamu harus selalu",
    "anda harus selalu",
    "selalu",
    "jangan",
    "janganlah",
    "jangan pernah",
    "hindari",
    "berhenti",
    "harus selalu",
    "kamu harus",
    "anda harus",
    "usahakan",
    "tidak usah",
    "nggak usah",
    "gak usah",
    "ga usah",
    "tak usah",
];

/// Habit words that take a noun ("avoid jargon", "hindari istilah teknis"): any object counts.
const NOUN_HABITS: &[&str] = &["avoid", "hindari"];

/// Verbs about how the assistant talks; a habit word must be followed by one of these.
const BEHAVIOUR_VERBS: &[&str] = &[
    // English
    "use",
    "using",
    "reply",
    "replying",
    "respond",
    "responding",
    "answer",
    "answering",
    "write",
    "writing",
    "say",
    "saying",
    "speak",
    "speaking",
    "talk",
    "talking",
    "include",
    "including",
    "add",
    "adding",
    "give",
    "giving",
    "call",
    "calling",
    "address",
    "format",
    "explain",
    "explaining",
    "mention",
    "mentioning",
    "ask",
    "asking",
    "apologize",
    "apologise",
    "apologizing",
    "apologising",
    "start",
    "starting",
    "begin",
    "end",
    "ending",
    "finish",
    "be",
    "keep",
    "make",
    "put",
    "show",
    "list",
    "cite",
    "quote",
    "translate",
    "summarize",
    "summarise",
    "sign",
    "greet",
    "greeting",
    "refer",
    "output",
    "print",
    "return",
    "wrap",
    "capitalize",
    "sugarcoat",
    "lecture",
    "lecturing",
    "repeat",
    "repeating",
    "switch",
    "provide",
    "offer",
    "offering",
    "suggest",
    "suggesting",
    "recommend",
    "assume",
    "guess",
    "correct",
    "ramble",
    "rambling",
    "pad",
    "exceed",
    "mix",
    "send",
    "sending",
    "tell",
    "telling",
    "double",
    "check",
    "reveal",
    "share",
    "disclose",
    "answers",
    "replies",
    "responses",
    "emojis",
    "emoji",
    "bullet",
    // Indonesian
    "pakai",
    "pake",
    "memakai",
    "gunakan",
    "menggunakan",
    "gunakanlah",
    "pakailah",
    "jawab",
    "menjawab",
    "jawablah",
    "balas",
    "membalas",
    "balaslah",
    "tulis",
    "menulis",
    "tulislah",
    "sertakan",
    "menyertakan",
    "tambahkan",
    "menambahkan",
    "beri",
    "berikan",
    "memberi",
    "memberikan",
    "kasih",
    "sebut",
    "menyebut",
    "panggil",
    "memanggil",
    "bicara",
    "berbicara",
    "ngomong",
    "jelaskan",
    "menjelaskan",
    "awali",
    "mengawali",
    "akhiri",
    "mengakhiri",
    "bertele-tele",
    "terlalu",
    "basa-basi",
    "berbasa-basi",
    "ulangi",
    "mengulang",
    "mengulangi",
    "buat",
    "membuat",
    "buatlah",
    "sapa",
    "menyapa",
    "cantumkan",
    "mencantumkan",
    "terjemahkan",
    "menerjemahkan",
    "langsung",
    "singkat",
    "ringkas",
    "sopan",
    "formal",
    "santai",
    "bahasa",
    "minta",
    "meminta",
    "meminta maaf",
    "sarankan",
    "menyarankan",
    "tampilkan",
    "menampilkan",
    "kirim",
    "mengirim",
    "gaya",
    "format",
    "cek",
    "periksa",
];

/// Words that open a question; such a message asks, it does not instruct.
const QUESTION_WORDS: &[&str] = &[
    "why",
    "what",
    "how",
    "when",
    "where",
    "who",
    "whom",
    "whose",
    "which",
    "is",
    "are",
    "am",
    "was",
    "were",
    "does",
    "did",
    "can",
    "could",
    "would",
    "will",
    "shall",
    "has",
    "have",
    "had",
    "apakah",
    "apa",
    "kenapa",
    "mengapa",
    "bagaimana",
    "gimana",
    "kapan",
    "dimana",
    "di mana",
    "siapa",
    "berapa",
    "bisakah",
    "bolehkah",
    "haruskah",
    "benarkah",
    "masa",
];

/// Politeness and filler the user may put before an instruction.
const LEADING_FILLER: &[&str] = &[
    "please", "pls", "plz", "kindly", "ok", "okay", "oh", "and", "also", "hey", "tolong", "mohon",
    "coba", "oke", "dan", "juga", "nanti", "ya", "remember", "ingat",
];

/// Who the instruction is about when it does not open with a verb.
const SECOND_PERSON: &[&str] = &["you", "your", "kamu", "anda", "kau", "lu", "lo", "engkau"];
const FIRST_PERSON: &[&str] = &[
    "i", "i'm", "i'll", "i've", "we", "we're", "my", "our", "me", "saya", "aku", "gue", "gw",
    "kami", "kita", "ku",
];

/// The rule a message teaches, if it is feedback: prefix stripped, trimmed, at most
/// [`MAX_RULE_CHARS`] characters.
pub fn detect(message: &str) -> Option<String> {
    let message = message.trim();
    let rule = explicit_rule(message).or_else(|| implicit_rule(message))?;
    let rule: String = rule.chars().take(MAX_RULE_CHARS).collect();
    let rule = rule.trim();
    (!rule.is_empty()).then(|| rule.to_string())
}

fn explicit_rule(message: &str) -> Option<&str> {
    EXPLICIT_PREFIXES.iter().find_map(|prefix| {
        let head = message.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix)
            .then(|| message[prefix.len()..].trim())
    })
}

fn implicit_rule(message: &str) -> Option<&str> {
    if message.ends_with('?') || message.contains("?\n") {
        return None;
    }
    let words = words(message);
    let words = skip_filler(&words);
    if starts_with_any(words, QUESTION_WORDS).is_some() {
        return None;
    }
    let standing = starts_with_any(words, STANDING_CUES)
        .map(skip_filler)
        .filter(|rest| is_instruction(rest))
        .or_else(|| ends_with_standing_cue(words).filter(|head| is_instruction(head)));
    let habit = habit_then_behaviour(words);
    (standing.is_some() || habit).then_some(message)
}

/// An instruction is an imperative behaviour verb, a habit word with one, or words
/// addressed to the assistant ("you", "your answers").
fn is_instruction(words: &[String]) -> bool {
    let Some(first) = words.first() else {
        return false;
    };
    if BEHAVIOUR_VERBS.contains(&first.as_str()) || habit_then_behaviour(words) {
        return true;
    }
    if SECOND_PERSON.contains(&first.as_str()) {
        return true;
    }
    // "I want you to …", "saya mau kamu …": first person, but about the assistant.
    FIRST_PERSON.contains(&first.as_str())
        && words
            .iter()
            .take(5)
            .any(|word| SECOND_PERSON.contains(&word.as_str()))
}

fn habit_then_behaviour(words: &[String]) -> bool {
    let mut best = None;
    for habit in HABIT_WORDS {
        if let Some(rest) = starts_with_phrase(words, habit) {
            // Prefer the longest habit phrase ("jangan pernah" over "jangan").
            if best.is_none_or(|(len, _)| habit.len() > len) {
                best = Some((habit.len(), rest));
            }
        }
    }
    let Some((_, rest)) = best else {
        return false;
    };
    if NOUN_HABITS.iter().any(|habit| words[0] == *habit) {
        return !rest.is_empty();
    }
    let rest = skip_filler(rest);
    match rest.first() {
        Some(word) => {
            BEHAVIOUR_VERBS.contains(&word.as_str())
                || (SECOND_PERSON.contains(&word.as_str()) && rest.len() > 1 && {
                    // "never you mind" is not an instruction; "jangan kamu pakai emoji" is.
                    BEHAVIOUR_VERBS.contains(&rest[1].as_str())
                })
        }
        None => false,
    }
}

fn ends_with_standing_cue(words: &[String]) -> Option<&[String]> {
    STANDING_CUES.iter().find_map(|cue| {
        let cue_words: Vec<&str> = cue.split(' ').collect();
        let n = cue_words.len();
        (words.len() > n
            && words[words.len() - n..]
                .iter()
                .zip(&cue_words)
                .all(|(word, cue)| word == cue))
        .then(|| &words[..words.len() - n])
    })
}

fn starts_with_any<'a>(words: &'a [String], phrases: &[&str]) -> Option<&'a [String]> {
    phrases
        .iter()
        .find_map(|phrase| starts_with_phrase(words, phrase))
}

fn starts_with_phrase<'a>(words: &'a [String], phrase: &str) -> Option<&'a [String]> {
    let mut rest = words;
    for part in phrase.split(' ') {
        match rest.split_first() {
            Some((word, tail)) if word == part => rest = tail,
            _ => return None,
        }
    }
    Some(rest)
}

fn skip_filler(words: &[String]) -> &[String] {
    let skip = words
        .iter()
        .take_while(|word| LEADING_FILLER.contains(&word.as_str()))
        .count();
    &words[skip..]
}

/// Lower-cased words with surrounding punctuation removed; apostrophes and hyphens kept so
/// that "don't" and "bertele-tele" stay whole.
fn words(message: &str) -> Vec<String> {
    message
        .split_whitespace()
        .map(|word| {
            word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
                .replace('’', "'")
                .to_lowercase()
        })
        .map(|word| word.trim_matches(|c| c == '\'' || c == '-').to_string())
        .filter(|word| !word.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(message: &str, expected: Option<&str>) {
        assert_eq!(detect(message).as_deref(), expected, "message: {message:?}");
    }

    #[test]
    fn explicit_prefixes_are_stripped_case_insensitively() {
        check("rule: answer in English", Some("answer in English"));
        check("Feedback:  be brief ", Some("be brief"));
        check("REMEMBER: my name is Ana", Some("my name is Ana"));
        check("aturan: jawab singkat", Some("jawab singkat"));
        check("Ingat: panggil saya Budi", Some("panggil saya Budi"));
        check(
            "catatan: pakai bahasa Indonesia",
            Some("pakai bahasa Indonesia"),
        );
        check("rule:", None);
    }

    #[test]
    fn standing_instructions_in_english_are_feedback() {
        for message in [
            "from now on answer in English",
            "From now on, call me Sam.",
            "don't use emojis",
            "Please never use bullet points",
            "always reply briefly",
            "next time keep it short",
            "Stop apologizing so much.",
            "answer in English from now on",
            "From now on I want you to answer in French",
        ] {
            check(message, Some(message.trim()));
        }
    }

    #[test]
    fn standing_instructions_in_indonesian_are_feedback() {
        for message in [
            "jangan pakai emoji",
            "mulai sekarang jawab dalam bahasa Inggris",
            "lain kali jawab lebih singkat",
            "selalu jawab singkat",
            "tolong jangan bertele-tele",
            "ke depannya gunakan bahasa formal",
        ] {
            check(message, Some(message));
        }
    }

    #[test]
    fn questions_and_statements_are_not_feedback() {
        for message in [
            "why do I always forget my keys?",
            "never mind",
            "apakah selalu hujan di Bogor?",
            "what is the capital of France",
            "I always forget my keys",
            "don't forget to buy milk",
            "jangan lupa beli susu",
            "next time I go to Bali I will rent a scooter",
            "lain kali saya mau ke Bali",
            "from now on prices will rise",
            "do you always answer in English",
            "don't worry about it",
            "jangan khawatir",
            "always remember to lock the door",
            "mulai sekarang saya diet",
            "",
        ] {
            check(message, None);
        }
    }

    /// The labeled sets in tests/data: precision must stay ≥ 0.95 and recall ≥ 0.85, in each
    /// language. Run with `--nocapture` to see the figures and every miss.
    #[test]
    fn labeled_set_meets_precision_and_recall_targets() {
        let tuned = include_str!("../tests/data/feedback_labeled.tsv");
        assert!(tuned.lines().filter(|l| l.starts_with(['0', '1'])).count() >= 150);
        check_labeled_set("tuning set", tuned, &["en", "id", "all"]);
    }

    #[test]
    fn held_out_set_meets_precision_and_recall_targets() {
        // Small per language (30 each): one miss moves a figure by 0.06, so the targets apply
        // to the whole held-out set.
        let data = include_str!("../tests/data/feedback_heldout.tsv");
        check_labeled_set("held-out set", data, &["all"]);
    }

    fn check_labeled_set(name: &str, data: &str, enforced: &[&str]) {
        let mut report = format!("{name}\n");
        let mut totals = Vec::new();
        for lang in ["en", "id", "all"] {
            let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
            let mut count = 0;
            for line in data
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
            {
                let mut fields = line.splitn(3, '\t');
                let (label, language, message) = (
                    fields.next().unwrap(),
                    fields.next().unwrap(),
                    fields.next().unwrap(),
                );
                if lang != "all" && language != lang {
                    continue;
                }
                count += 1;
                let detected = detect(message).is_some();
                match (label == "1", detected) {
                    (true, true) => tp += 1.0,
                    (false, true) => {
                        fp += 1.0;
                        report.push_str(&format!("  false positive: {message}\n"));
                    }
                    (true, false) => {
                        fn_ += 1.0;
                        report.push_str(&format!("  missed: {message}\n"));
                    }
                    (false, false) => {}
                }
            }
            let precision = tp / (tp + fp);
            let recall = tp / (tp + fn_);
            report.push_str(&format!(
                "{lang}: {count} messages, precision {precision:.3}, recall {recall:.3}\n"
            ));
            totals.push((lang, count, precision, recall));
        }
        println!("{report}");
        for (lang, _, precision, recall) in totals {
            if !enforced.contains(&lang) {
                continue;
            }
            assert!(
                precision >= 0.95,
                "{lang} precision {precision:.3}\n{report}"
            );
            assert!(recall >= 0.85, "{lang} recall {recall:.3}\n{report}");
        }
    }

    #[test]
    fn rules_are_capped_at_500_characters() {
        let long = format!("rule: {}", "x".repeat(800));
        assert_eq!(detect(&long).unwrap().chars().count(), MAX_RULE_CHARS);
    }
}
