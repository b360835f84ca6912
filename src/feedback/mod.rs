//! Pure detection of feedback: does a message tell the assistant how to behave from now on?
//!
//! A clause-level grammar rather than a list of openings. A message is feedback when one of
//! its clauses is a *directive addressed to the assistant* (an imperative about how it talks,
//! a prohibition, "you should …", "I want you to …", a polite "could you …?", "call me …")
//! that carries a *standing scope*: a time marker anywhere ("from now on", "reply in Spanish
//! from now on", "lain kali"), a quantifier ("always", "in each reply", "setiap jawaban",
//! "show all prices"), a condition ("whenever I paste code, …", "kalau aku kirim kode, …"), or
//! a form that is standing by itself ("don't use emojis", "no more …", "quit …ing", "call me
//! Captain"). Questions about the world, statements about the user or anyone else, one-off
//! requests, quotes and instructions for third parties are not.
//!
//! Precision comes before recall (SPEC §3.1): a false rule is injected into every later
//! request, while a missed one only costs the user an explicit `rule:` prefix.

mod lexicon;
mod spelling;

use lexicon::*;

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

/// The rule a message teaches, if it is feedback: prefix stripped, trimmed, at most
/// [`MAX_RULE_CHARS`] characters.
pub fn detect(message: &str) -> Option<String> {
    let message = message.trim();
    let rule = explicit_rule(message).or_else(|| implicit_rule(message).then_some(message))?;
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

/// Requests to remind or schedule: never standing instructions about replies.
const REMINDERS: &[&str] = &[
    "remind me",
    "remind us",
    "wake me",
    "ping me",
    "notify me",
    "alert me",
    "ingatkan aku",
    "ingatkan saya",
    "ingatkan gue",
    "ingetin aku",
    "ingetin saya",
    "ingetin gue",
    "ingetin",
    "bangunkan aku",
    "bangunin aku",
    "kabari aku",
    "kabarin aku",
];

/// One clause of a message: its words, and whether it was asked as a question.
struct Clause {
    words: Vec<String>,
    question: bool,
}

/// Whether some clause is a standing directive and no clause asks about the world.
fn implicit_rule(message: &str) -> bool {
    let clauses = clauses(&without_quotes(without_text_to_translate(message)));
    let declared = RULE_DECLARATIONS
        .iter()
        .any(|phrase| message.to_lowercase().contains(phrase));
    let lower = message.to_lowercase();
    if JOKES.iter().any(|joke| lower.contains(joke)) {
        return false;
    }
    // "From now on remind me to take my pills at 8" asks for a job, not a rule (SPEC §3.2):
    // it goes to the model and its `cron_add`.
    if REMINDERS.iter().any(|ask| lower.contains(ask)) {
        return false;
    }
    let mut standing = false;
    for clause in &clauses {
        let words = skip_filler(&clause.words);
        if words.is_empty() {
            continue;
        }
        // "avoid the highway today", "hindari tol hari ini": for once, not from now on.
        let once = (0..words.len()).any(|at| starts_with_any(&words[at..], ONE_OFF).is_some());
        if once && !(0..words.len()).any(|at| starts_with_any(&words[at..], TIME_SCOPES).is_some())
        {
            continue;
        }
        match directive(words) {
            Some(directive) => {
                if clause.question && !directive.polite {
                    return false;
                }
                if directive.standing || has_scope(words) || declared {
                    standing = true;
                }
            }
            // A question that is not a request to the assistant: the message asks, it does
            // not instruct ("… is that rude?", "any tips?").
            None if clause.question => return false,
            None if starts_with_any(words, QUESTION_WORDS).is_some() => return false,
            None => {}
        }
    }
    standing
}

/// What a directive clause says about itself.
struct Directive {
    /// Standing by its form (a prohibition, "no more …", "call me …"), or by a leading
    /// scope or condition ("in each reply, …", "when I paste code, …").
    standing: bool,
    /// Asked as a polite request ("could you …?"), which may end in a question mark.
    polite: bool,
}

/// Recognises a directive to the assistant at the start of a clause, after any leading
/// scope or condition.
fn directive(words: &[String]) -> Option<Directive> {
    let mut polite = false;
    let mut scoped = false;
    let mut words = skip_filler(words);
    // Leading scope and conditions, in any order: "lain kali kalau jawab, langsung …".
    for _ in 0..3 {
        let before = words.len();
        let after_scope = skip_filler(skip_leading_scope(words));
        scoped |= after_scope.len() < words.len() && !after_scope.is_empty() && {
            let skipped = &words[..words.len() - after_scope.len()];
            !skipped
                .iter()
                .all(|word| FILLER.contains(&word.as_str()) || word == ",")
        };
        words = after_scope;
        if let Some(rest) = starts_with_any(words, POLITE_FRAMES) {
            polite = true;
            words = skip_filler(rest);
            words = starts_with_any(words, SECOND_PERSON).map_or(words, skip_filler);
        }
        if words.len() == before {
            break;
        }
    }
    let found = directive_form(words, polite)?;
    Some(Directive {
        standing: found.standing || scoped,
        polite,
    })
}

/// A directive form at the very start of `words`.
fn directive_form(words: &[String], polite: bool) -> Option<Directive> {
    words.first()?;
    // "call me Captain", "refer to me as Dr. Hale", "panggil aku Kapten".
    let standing = if address_directive(words) {
        Some(true)
    } else {
        no_more_form(words)
            .or_else(|| no_noun_form(words))
            .or_else(|| prohibition_form(words))
            .or_else(|| second_person_form(words))
            .or_else(|| desire_form(words))
            .unwrap_or_else(|| imperative_form(words))
    };
    standing.map(|standing| Directive { standing, polite })
}

/// What one directive form makes of the words: `None` when they are not in this form;
/// otherwise its verdict, `Some(None)` for not a directive and `Some(Some(standing))` for one
/// (`standing`: it needs no marker like "from now on" to be a standing instruction).
type Verdict = Option<Option<bool>>;

/// "no more rhetorical questions" (not "no more than two").
fn no_more_form(words: &[String]) -> Verdict {
    let rest = starts_with_phrase(words, "no more")?;
    if !rest
        .first()
        .is_some_and(|word| word != "than" && word != "of")
    {
        return None;
    }
    // "no more tickets are available" describes; "no more questions, thanks" closes.
    let describes = rest.iter().take(4).any(|word| {
        [
            "is",
            "are",
            "was",
            "were",
            "left",
            "available",
            "thanks",
            "thank",
        ]
        .contains(&word.as_str())
    });
    Some((!describes).then_some(true))
}

/// "no emojis from now on": a prohibition that needs its scope.
fn no_noun_form(words: &[String]) -> Verdict {
    let noun = words.get(1).filter(|_| words[0] == "no")?;
    let prohibits = noun.chars().all(char::is_alphabetic)
        && !["way", "problem", "worries", "idea", "thanks", "need", "one"].contains(&noun.as_str());
    // "no emojis ever" is standing by itself.
    let ever = words.get(2).is_some_and(|word| word == "ever");
    prohibits.then_some(Some(ever))
}

/// Prohibitions of a behaviour: "don't use", "never start", "stop apologizing",
/// "jangan pakai", "nggak usah jelasin".
fn prohibition_form(words: &[String]) -> Verdict {
    let first = &words[0];
    let rest = longest_prefix(words, PROHIBITIONS)?;
    let rest = skip_habits(rest);
    let rest = starts_with_any(rest, SECOND_PERSON).map_or(rest, skip_habits);
    if let Some(verb) = rest.first() {
        // "stop the timer" is not about the assistant; "stop calling me", "stop pakai"
        // and "berhenti minta maaf" are.
        let gerund = verb.ends_with("ing") && verb.len() > 4;
        if is_behaviour_verb(verb, rest) || (["stop", "quit"].contains(&first.as_str()) && gerund) {
            return Some(Some(true));
        }
    }
    let avoid = ["avoid", "hindari", "hindarin"].contains(&first.as_str()) && !rest.is_empty();
    Some(avoid.then_some(true))
}

/// "you should always …", "kamu harus selalu …", "your answers should …".
fn second_person_form(words: &[String]) -> Verdict {
    let answer_subject = is_answer_subject(words);
    if !SECOND_PERSON.contains(&words[0].as_str()) && !answer_subject {
        return None;
    }
    let rest = &words[if answer_subject {
        subject_len(words)
    } else {
        1
    }..];
    let rest = skip_habits(rest);
    if let Some(rest) = starts_with_any(rest, MODALS) {
        let rest = skip_habits(starts_with_phrase(rest, "to").unwrap_or(rest));
        let rest = starts_with_phrase(rest, "to").unwrap_or(rest);
        let rest = skip_habits(rest);
        if rest
            .first()
            .is_some_and(|verb| is_behaviour_verb(verb, rest))
        {
            return Some(Some(false));
        }
    }
    // "kamu selalu pakai bahasa sopan dong": in Indonesian chat a habit asked of "kamu" with
    // a request particle is a directive; "you always use emojis" is a complaint, and "ya" is
    // left out because it is a tag question as often ("kamu selalu jawab pakai inggris ya").
    let habit = words
        .get(1)
        .is_some_and(|word| ["selalu", "always"].contains(&word.as_str()));
    let after_habit = skip_habits(&words[1..]);
    let asked = words
        .last()
        .is_some_and(|word| ["dong", "please"].contains(&word.as_str()));
    if !answer_subject
        && habit
        && asked
        && after_habit
            .first()
            .is_some_and(|verb| is_behaviour_verb(verb, after_habit))
    {
        return Some(Some(true));
    }
    Some(answer_subject.then_some(false))
}

/// "I want you to …", "I want every answer to …", "aku mau kamu selalu …".
fn desire_form(words: &[String]) -> Verdict {
    let rest = longest_prefix(words, DESIRE_FRAMES)?;
    let addressed = rest.iter().take(4).any(|word| {
        SECOND_PERSON.contains(&word.as_str()) || ANSWER_NOUNS.contains(&word.as_str())
    });
    let starts_with_verb = rest
        .first()
        .is_some_and(|verb| is_behaviour_verb(verb, rest));
    if !addressed && !starts_with_verb {
        return Some(None);
    }
    let after = rest
        .iter()
        .position(|word| word == "to" || SECOND_PERSON.contains(&word.as_str()))
        .map_or(rest, |at| &rest[at + 1..]);
    let after = skip_habits(starts_with_phrase(after, "to").unwrap_or(after));
    let habit = rest
        .iter()
        .take(5)
        .any(|word| HABITS[..3].contains(&word.as_str()));
    let verb = after
        .first()
        .is_some_and(|verb| is_behaviour_verb(verb, after));
    Some((verb || habit || starts_with_verb).then_some(false))
}

/// An imperative: "reply in Spanish …", "always assume …", "selalu jawab …".
fn imperative_form(words: &[String]) -> Option<bool> {
    let rest = skip_habits(words);
    let verb = rest.first()?;
    if FIRST_PERSON.contains(&verb.as_str()) {
        return None;
    }
    is_behaviour_verb(verb, rest).then_some(false)
}

/// "call me X", "refer to me as X", "address me as X", "panggil aku X", "sebut saya X".
fn address_directive(words: &[String]) -> bool {
    let words = skip_habits(words);
    let text = |n: usize| {
        words
            .iter()
            .take(n)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let two = text(2);
    let three = text(3);
    let named = |at: usize| {
        words.get(at).is_some_and(|word| {
            !["a", "an", "the", "back", "later", "tomorrow"].contains(&word.as_str())
        })
    };
    ([
        "call me",
        "panggil aku",
        "panggil saya",
        "panggil gue",
        "panggil gw",
        "sebut aku",
        "sebut saya",
    ]
    .contains(&two.as_str())
        && named(2))
        || (["refer to me", "address me as", "address me in"].contains(&three.as_str()))
        || two == "address me"
}

/// Whether the clause opens with the assistant's answers as its subject ("your answers",
/// "jawabanmu", "jawaban kamu").
fn is_answer_subject(words: &[String]) -> bool {
    subject_len(words) > 0
}

fn subject_len(words: &[String]) -> usize {
    match words {
        [your, noun, ..]
            if (your == "your" || your == "all") && ANSWER_NOUNS.contains(&noun.as_str()) =>
        {
            2
        }
        [noun, you, ..]
            if ANSWER_NOUNS.contains(&noun.as_str()) && SECOND_PERSON.contains(&you.as_str()) =>
        {
            2
        }
        [noun, ..]
            if [
                "jawabanmu",
                "jawabannya",
                "jawabnya",
                "balasanmu",
                "balasannya",
                "responmu",
            ]
            .contains(&noun.as_str()) =>
        {
            1
        }
        [noun, modal, ..]
            if ANSWER_NOUNS.contains(&noun.as_str())
                && [
                    "nggak", "gak", "tidak", "harus", "jangan", "should", "must", "wajib",
                ]
                .contains(&modal.as_str()) =>
        {
            1
        }
        _ => 0,
    }
}

/// A behaviour verb, as written or without a colloquial `-nya`; a verb that takes a person
/// only when the person is the user ("tell me", not "tell my sister").
fn is_behaviour_verb(word: &str, rest: &[String]) -> bool {
    let stem = word
        .strip_suffix("nya")
        .filter(|stem| stem.len() > 2)
        .unwrap_or(word);
    let stem =
        stem.strip_suffix("ing")
            .filter(|_| word.len() > 4)
            .map_or(stem.to_string(), |base| {
                // "apologizing" → "apologiz(e)", "using" → "us(e)", "adding" → "add".
                if BEHAVIOUR_VERBS.contains(&base) {
                    base.to_string()
                } else if BEHAVIOUR_VERBS.contains(&format!("{base}e").as_str()) {
                    format!("{base}e")
                } else {
                    base.trim_end_matches(|c| base.ends_with(&format!("{c}{c}")))
                        .to_string()
                }
            });
    if PERSON_VERBS.contains(&stem.as_str()) {
        let object = rest.get(1).map(String::as_str).unwrap_or("");
        let object2 = rest.get(1..3).map(|w| w.join(" ")).unwrap_or_default();
        if ME.contains(&object) || ME.contains(&object2.as_str()) {
            return true;
        }
        // "ask before answering"; "bilang aja kalau ragu" speaks to the user, while
        // "tell my sister", "bilangin adikku" and "bilang ke dia" speak to someone else.
        return match stem.as_str() {
            "ask" => ["before", "first", "if", "whether", "for", "clarifying"].contains(&object),
            "bilang" | "bilangin" => {
                !(object.ends_with("ku")
                    || ["ke", "sama", "kepada", "dia", "mereka"].contains(&object)
                    || object.is_empty())
            }
            _ => false,
        };
    }
    BEHAVIOUR_VERBS.contains(&stem.as_str())
}

/// Whether the clause has a standing scope: a time marker, a quantifier, a condition, an
/// imperative over a whole class ("show all prices"), "with me". Words inside a relative
/// clause ("a poem that never uses …") describe the object, not the behaviour.
fn has_scope(words: &[String]) -> bool {
    // "I prefer that you …", "make sure that …" keep what follows.
    let cut = (1..words.len())
        .find(|&at| {
            ["that", "which", "who", "yang", "bahwa", "telling", "saying"]
                .contains(&words[at].as_str())
                && !["prefer", "sure", "ensure", "want", "mind", "pastikan"]
                    .contains(&words[at - 1].as_str())
        })
        .unwrap_or(words.len());
    let words = &words[..cut];
    let any_phrase = |phrases: &[&str]| {
        (0..words.len()).any(|at| {
            phrases
                .iter()
                .any(|phrase| starts_with_phrase(&words[at..], phrase).is_some())
        })
    };
    if any_phrase(TIME_SCOPES) || any_phrase(QUANTIFIER_SCOPES) {
        return true;
    }
    if any_phrase(&[
        "with me",
        "sama aku",
        "sama saya",
        "sama gue",
        "ke aku",
        "with us",
    ]) {
        return true;
    }
    // "jangan … lagi" (not again), and a contrast after the directive: "tulis angka pakai
    // digit, jangan huruf".
    let negated = |word: &String| {
        [
            "jangan", "usah", "nggak", "gak", "ga", "tidak", "stop", "berhenti",
        ]
        .contains(&word.as_str())
    };
    if words.iter().any(|word| word == "lagi") && words.iter().any(negated) {
        return true;
    }
    if words.iter().skip(1).any(|word| word == "jangan") {
        return true;
    }
    // "again" and "lagi" are standing only in a prohibition, which is standing anyway;
    // "in all your replies", "for every answer", "semua jawaban".
    (0..words.len()).any(|at| {
        SCOPE_QUANTIFIERS[..5].contains(&words[at].as_str())
            && words[at + 1..].iter().take(3).any(|word| {
                ANSWER_NOUNS.contains(&word.as_str()) || word == "code" || word == "kode"
            })
    }) || words
        .windows(2)
        .any(|pair| pair[0] == "semua" && ANSWER_NOUNS.contains(&pair[1].as_str()))
        || imperative_over_a_class(words)
}

/// "show all prices with two decimals", "format all dates …", "tulis semua harga …".
fn imperative_over_a_class(words: &[String]) -> bool {
    let words = skip_habits(skip_filler(words));
    match words {
        [verb, quantifier, ..] => {
            is_behaviour_verb(verb, words)
                && ["all", "every", "each", "semua", "setiap", "tiap", "seluruh"]
                    .contains(&quantifier.as_str())
        }
        _ => false,
    }
}

/// Skips a leading scope phrase or condition clause: "from now on", "in each reply,",
/// "for every answer", "whenever I paste code,", "kalau aku kirim kode,".
fn skip_leading_scope(words: &[String]) -> &[String] {
    if let Some(rest) = longest_prefix(words, TIME_SCOPES) {
        // "in future answers, …", "for future replies …".
        // Plural only: "answer" and "reply" are verbs as well ("from now on answer …").
        let nouns = rest
            .iter()
            .take_while(|word| ANSWER_NOUNS.contains(&word.as_str()) && word.ends_with('s'))
            .count();
        return &rest[nouns..];
    }
    if starts_with_any(words, POLITE_CONDITIONS).is_some() {
        return words;
    }
    let first = match words.first() {
        Some(first) => first.as_str(),
        None => return words,
    };
    // "in each reply", "for all code answers", "di setiap balasanmu", "setiap jawaban".
    let scoped = SCOPE_PREPOSITIONS.contains(&first)
        && words
            .get(1)
            .is_some_and(|word| SCOPE_QUANTIFIERS.contains(&word.as_str()))
        || ["every", "each", "setiap", "tiap", "semua"].contains(&first);
    let condition = CONDITION_OPENERS.contains(&first)
        || starts_with_any(
            words,
            &[
                "any time",
                "every time",
                "each time",
                "setiap kali",
                "tiap kali",
                "kapan pun",
            ],
        )
        .is_some();
    if !scoped && !condition {
        return words;
    }
    // The phrase ends at the comma after it, or where a directive starts.
    if let Some(comma) = words.iter().position(|word| word == ",") {
        return &words[comma + 1..];
    }
    if condition && let Some(rest) = directive_after_unpunctuated_condition(words) {
        return rest;
    }
    if scoped {
        for skip in 2..words.len().min(6) {
            // "every time I bake bread …" is a condition, which needs its comma.
            if words[..skip].iter().any(|word| {
                FIRST_PERSON.contains(&word.as_str()) || SECOND_PERSON.contains(&word.as_str())
            }) {
                break;
            }
            let rest = skip_filler(&words[skip..]);
            if rest
                .first()
                .is_some_and(|verb| is_behaviour_verb(verb, rest))
            {
                return rest;
            }
        }
    }
    words
}

/// Chat leaves out the comma after a condition: "whenever i paste an error just explain the
/// fix", "each time you answer add a tl;dr". The condition names its subject (the user or
/// the assistant) and that subject's verb, and a directive starts right after it.
fn directive_after_unpunctuated_condition(words: &[String]) -> Option<&[String]> {
    let user = words.iter().take(4).position(|word| {
        FIRST_PERSON.contains(&word.as_str()) || SECOND_PERSON.contains(&word.as_str())
    })?;
    (user + 2..words.len().min(12)).find_map(|split| {
        // A second subject or a modal means the directive is a statement ("when i get home
        // i will write it"); a condition of willingness is a one-off request ("kalau kamu
        // sempat kirim laporannya").
        let between = &words[user + 1..split];
        if between.iter().any(|word| {
            let word = word.as_str();
            FIRST_PERSON.contains(&word)
                || SECOND_PERSON.contains(&word)
                || MODALS.contains(&word)
                || WILLINGNESS.contains(&word)
        }) {
            return None;
        }
        let rest = &words[split..];
        directive_form(skip_filler(rest), false).map(|_| rest)
    })
}

/// Conditions of time or willingness that make a request one-off: "if you have time …".
const WILLINGNESS: &[&str] = &["sempat", "sempet", "time", "bisa", "can", "could", "mind"];

/// The words of each clause, lower-cased, with commas kept as words (they end leading
/// conditions). Clauses end at `.`, `!`, `?`, `;`, `:`, a dash or a line break.
fn clauses(message: &str) -> Vec<Clause> {
    let mut clauses = Vec::new();
    let mut current = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        let ends = matches!(c, '.' | '!' | '?' | ';' | '\n' | '—' | '–' | '(' | ')')
            || (c == ':' && !chars.peek().is_some_and(|next| next.is_ascii_digit()));
        if ends {
            // "3.11", "e.g." and "Dr." do not end a clause.
            let decimal = c == '.' && chars.peek().is_some_and(|next| next.is_ascii_digit());
            if !decimal {
                push_clause(&mut clauses, &current, c == '?');
                current.clear();
                continue;
            }
        }
        current.push(c);
    }
    push_clause(&mut clauses, &current, false);
    clauses
}

fn push_clause(clauses: &mut Vec<Clause>, text: &str, question: bool) {
    let words = words(&text.replace(',', " , "));
    if words.is_empty() {
        // A bare "?" after a clause makes that clause a question.
        if question && let Some(last) = clauses.last_mut() {
            last.question = true;
        }
        return;
    }
    clauses.push(Clause { words, question });
}

/// Words that ask for a translation: what follows their colon is text, not an instruction.
const TRANSLATE_ASKS: &[&str] = &[
    "translate",
    "terjemah",
    "artinya",
    "arti dari",
    "meaning of",
];

/// "translate: never give up", "terjemahin ke inggris: selalu pakai helm": the text after the
/// colon is data to translate, like a quote.
fn without_text_to_translate(message: &str) -> &str {
    let Some(colon) = message.find(':') else {
        return message;
    };
    let asked = message[..colon].to_lowercase();
    if TRANSLATE_ASKS.iter().any(|ask| asked.contains(ask)) {
        &message[..colon]
    } else {
        message
    }
}

/// The message with quoted text blanked: a quote is data ("He wrote: \"always …\"").
fn without_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '"' | '“' | '”' => {
                quoted = !quoted;
                out.push(' ');
            }
            _ if quoted => {}
            _ => out.push(c),
        }
    }
    out
}

fn skip_habits(words: &[String]) -> &[String] {
    let skip = words
        .iter()
        .take_while(|word| {
            HABITS.contains(&word.as_str()) || FILLER.contains(&word.as_str()) || *word == "ever"
        })
        .count();
    &words[skip..]
}

fn longest_prefix<'a>(words: &'a [String], phrases: &[&str]) -> Option<&'a [String]> {
    phrases
        .iter()
        .filter_map(|phrase| starts_with_phrase(words, phrase).map(|rest| (phrase.len(), rest)))
        .max_by_key(|(len, _)| *len)
        .map(|(_, rest)| rest)
}

fn starts_with_any<'a>(words: &'a [String], phrases: &[&str]) -> Option<&'a [String]> {
    longest_prefix(words, phrases)
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
        .take_while(|word| FILLER.contains(&word.as_str()) || *word == ",")
        .count();
    &words[skip..]
}

/// Lower-cased words with surrounding punctuation removed; apostrophes and hyphens kept so
/// that "don't" and "bertele-tele" stay whole; a comma is a word of its own.
fn words(message: &str) -> Vec<String> {
    message
        .split_whitespace()
        .map(|word| {
            if word == "," {
                return ",".to_string();
            }
            word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
                .replace('’', "'")
                .to_lowercase()
        })
        .map(|word| {
            if word == "," {
                word
            } else {
                word.trim_matches(|c| c == '\'' || c == '-').to_string()
            }
        })
        .filter(|word| !word.is_empty())
        // Chat shorthand is written out before the grammar sees it.
        .flat_map(|word| spelling::written(&word))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Tally, labelled_rows, per_language_figures};

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
    fn requests_to_remind_are_jobs_not_rules() {
        for message in [
            "from now on remind me to take my pills at 8",
            "every morning remind me to water the plants",
            "mulai sekarang ingatkan aku minum obat jam 8",
            "tiap pagi ingetin aku siram tanaman",
        ] {
            check(message, None);
        }
        // An explicit rule stays one.
        check(
            "rule: remind me of the sources you used",
            Some("remind me of the sources you used"),
        );
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
            "translate: never give up",
            "tolong terjemahkan ke bahasa inggris: selalu pakai helm",
            "",
        ] {
            check(message, None);
        }
    }

    /// The labeled sets in tests/data: precision must stay ≥ 0.95 and recall ≥ 0.85, in each
    /// language. Run with `--nocapture` to see the figures and every miss.
    const TUNING: &str = include_str!("../../tests/data/feedback/tune.tsv");
    const HELD_OUT: &str = include_str!("../../tests/data/feedback/holdout.tsv");
    const CHAT_TUNING: &str = include_str!("../../tests/data/feedback/chat_tune.tsv");
    const CHAT_HELD_OUT: &str = include_str!("../../tests/data/feedback/chat_holdout.tsv");

    #[test]
    fn tuning_set_meets_precision_and_recall_targets() {
        check_labeled_set("tuning set", TUNING, &["en", "id", "all"]);
    }

    #[test]
    fn held_out_set_meets_precision_and_recall_targets() {
        // 100 messages per language, never tuned against (SPEC §3.1: ≥ 0.95 / ≥ 0.90).
        check_labeled_set("held-out set", HELD_OUT, &["en", "id", "all"]);
    }

    /// Messy chat (issue 25 point 4) is still short of the SPEC's recall target of 0.90, so
    /// these hold the precision target and a recall floor at today's figures: a change that
    /// loses what chat shorthand gained fails here.
    fn check_messy_chat(name: &str, data: &str, recall_floor: f64) {
        for (lang, precision, recall) in check_labeled_set(name, data, &[]) {
            assert!(
                precision >= 0.95,
                "{name}, {lang}: precision {precision:.3}"
            );
            assert!(recall >= recall_floor, "{name}, {lang}: recall {recall:.3}");
        }
    }

    #[test]
    fn messy_chat_tuning_set_holds_precision_and_its_recall() {
        check_messy_chat("messy chat, tuning", CHAT_TUNING, 0.80);
    }

    #[test]
    fn messy_chat_held_out_set_holds_precision_and_its_recall() {
        check_messy_chat("messy chat, held out", CHAT_HELD_OUT, 0.80);
    }

    /// The detector has no fitted parameters, so folds do not train anything: five folds of
    /// the whole set (both files) show how much the figures vary from one slice to another.
    #[test]
    fn five_folds_of_the_whole_set() {
        let lines = labelled_rows(&[TUNING, HELD_OUT]);
        let mut report = String::new();
        for fold in 0..5 {
            let mut tally = Tally::default();
            for line in lines.iter().skip(fold).step_by(5) {
                let message = line.splitn(3, '\t').nth(2).unwrap();
                tally.count(line.starts_with('1'), detect(message).is_some());
            }
            let (precision, recall) = (tally.precision(), tally.recall());
            report.push_str(&format!(
                "fold {fold}: precision {precision:.3}, recall {recall:.3}\n"
            ));
            assert!(precision >= 0.95 && recall >= 0.90, "{report}");
        }
        println!("{report}");
    }

    /// `make bench` runs this in a release build: detection must stay under 0.1 ms per
    /// message (issue 12). Ignored by `make test`: timing on a shared machine is not a test.
    #[test]
    #[ignore]
    fn detection_cost_per_message() {
        let messages: Vec<&str> = TUNING
            .lines()
            .chain(HELD_OUT.lines())
            .filter(|line| line.starts_with(['0', '1']))
            .map(|line| line.splitn(3, '\t').nth(2).unwrap())
            .collect();
        let mut per_message = Vec::new();
        for _ in 0..21 {
            let start = std::time::Instant::now();
            let found = messages.iter().filter(|m| detect(m).is_some()).count();
            std::hint::black_box(found);
            per_message.push(start.elapsed().as_secs_f64() * 1e6 / messages.len() as f64);
        }
        per_message.sort_by(f64::total_cmp);
        println!(
            "feedback detection: {:.1} µs per message (median of 21 passes over {} messages; budget 100 µs)",
            per_message[10],
            messages.len()
        );
    }

    #[test]
    fn the_sets_are_large_varied_and_balanced() {
        let rows = |data: &'static str| {
            data.lines()
                .filter(|line| line.starts_with(['0', '1']))
                .map(|line| (line.starts_with('1'), line.split('\t').nth(1).unwrap()))
                .collect::<Vec<_>>()
        };
        let all: Vec<_> = rows(TUNING).into_iter().chain(rows(HELD_OUT)).collect();
        assert!(all.len() >= 600, "{} messages", all.len());
        let indonesian = all.iter().filter(|(_, lang)| *lang == "id").count();
        assert!(indonesian * 2 >= all.len() - 20, "{indonesian} Indonesian");
        let positives = all.iter().filter(|(label, _)| *label).count();
        assert!(
            all.len() - positives >= positives,
            "more positives than negatives"
        );
    }

    /// Checks the SPEC targets on the `enforced` languages and returns (language, precision,
    /// recall) for every language and "all".
    fn check_labeled_set(
        name: &str,
        data: &str,
        enforced: &[&str],
    ) -> Vec<(&'static str, f64, f64)> {
        let (report, totals) = per_language_figures(data, "messages", &|fields| {
            (detect(fields[0]).is_some(), fields[0].to_string())
        });
        let report = format!("{name}\n{report}");
        println!("{report}");
        for &(lang, _, precision, recall) in &totals {
            if !enforced.contains(&lang) {
                continue;
            }
            assert!(
                precision >= 0.95,
                "{lang} precision {precision:.3}\n{report}"
            );
            assert!(recall >= 0.90, "{lang} recall {recall:.3}\n{report}");
        }
        totals
            .into_iter()
            .map(|(lang, _, precision, recall)| (lang, precision, recall))
            .collect()
    }

    #[test]
    fn chat_forms_without_punctuation_still_make_directives() {
        for message in [
            "whenever i run the tests use the verbose flag",
            "klo aku kirim log jelasin penyebabnya aja",
            "each time u explain something give an example",
            "km selalu pake bahasa sopan dong",
            "no emoji ever pls",
        ] {
            assert!(detect(message).is_some(), "{message}");
        }
        for message in [
            "kalau kamu sempat kirim laporannya ya",
            "when you have time send me the report",
            "when i get home i will write the report",
            "kalau aku nanya gini kamu jawab apa",
            "each time i call my mom she answers in javanese",
            "every time you answer me i get confused lol",
            "you always use emojis",
            "kamu selalu jawab pakai bahasa inggris ya",
            "stop with the noise outside lol",
        ] {
            assert_eq!(detect(message), None, "{message}");
        }
    }

    /// The grammar's word lists are matched against words the spelling step has written out,
    /// so a list entry holding shorthand ("klo", "pls") could never match.
    #[test]
    fn no_word_list_holds_shorthand_the_spelling_step_rewrites() {
        let lists: &[&[&str]] = &[
            TIME_SCOPES,
            QUANTIFIER_SCOPES,
            ANSWER_NOUNS,
            CONDITION_OPENERS,
            SCOPE_PREPOSITIONS,
            SCOPE_QUANTIFIERS,
            BEHAVIOUR_VERBS,
            PERSON_VERBS,
            ME,
            PROHIBITIONS,
            HABITS,
            FILLER,
            POLITE_FRAMES,
            DESIRE_FRAMES,
            SECOND_PERSON,
            MODALS,
            QUESTION_WORDS,
            ONE_OFF,
            POLITE_CONDITIONS,
            FIRST_PERSON,
        ];
        for phrase in lists.iter().flat_map(|list| list.iter()) {
            for word in phrase.split(' ') {
                assert_eq!(spelling::written(word), [word], "`{phrase}` in a word list");
            }
        }
    }

    #[test]
    fn rules_are_capped_at_500_characters() {
        let long = format!("rule: {}", "x".repeat(800));
        assert_eq!(detect(&long).unwrap().chars().count(), MAX_RULE_CHARS);
    }
}
