//! The learned rules: stored in memory, listed, cleared and turned into the system message.
//!
//! `rules.last` holds the newest rule, as the Python tool did; `rules.history` holds the most
//! recent [`MAX_RULES`], oldest first. A file with only `rules.last` (the Python tool's) reads
//! as a history of that one rule.

use crate::error::{Error, Result};
use crate::memory::{Entries, Memory};
use serde_json::Value;

/// The memory key of the newest rule, shared with the Python tool.
pub const LAST_KEY: &str = "rules.last";
/// The memory key of the rule history: `[{"number": 3, "rule": "…"}, …]`, oldest first. An
/// older nanopy wrote plain strings; those are numbered by their place, as `rules` showed them.
pub const HISTORY_KEY: &str = "rules.history";
/// The memory key of the number the next new rule gets: numbers are never reused, also not
/// after `rules-clear`.
pub const NEXT_KEY: &str = "rules.next";
/// How many rules we keep.
pub const MAX_RULES: usize = 20;

/// A learned rule and the number it was given when it was learned (SPEC §3.2): forgetting
/// other rules never changes it, so the number a note printed last week still names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub number: u64,
    pub text: String,
}

/// The rules in force, oldest first.
pub fn list(memory: &Memory, now: i64) -> Result<Vec<Rule>> {
    memory.inspect(now, |entries| Book::read(entries).rules)
}

/// What learning a rule did.
#[derive(Debug, Clone, PartialEq)]
pub struct Learned {
    /// The rule, with its number.
    pub rule: Rule,
    /// The rules now in force, oldest first.
    pub rules: Vec<Rule>,
    /// Kept rules on the same subject that it replaced, oldest first (SPEC §3.2).
    pub replaced: Vec<Rule>,
}

/// Records a newly learned rule. Saying a rule again moves it to the newest place with the
/// number it has instead of storing it twice (compared case-insensitively), so it wins over
/// rules said since; a kept rule on the same subject that the new one contradicts or repeats
/// in other words is replaced (and stays forgotten if the new one is forgotten later).
pub fn learn(memory: &Memory, text: &str, now: i64) -> Result<Learned> {
    memory.modify(now, |entries| {
        let mut book = Book::read(entries);
        let (replaced, kept): (Vec<Rule>, Vec<Rule>) = book.rules.drain(..).partition(|old| {
            !same_rule(&old.text, text) && crate::consistency::replaces(text, &old.text)
        });
        book.rules = kept;
        let rule = match book.rules.iter().position(|old| same_rule(&old.text, text)) {
            Some(at) => Rule {
                text: text.to_string(),
                ..book.rules.remove(at)
            },
            None => {
                book.next += 1;
                Rule {
                    number: book.next - 1,
                    text: text.to_string(),
                }
            }
        };
        book.rules.push(rule.clone());
        let excess = book.rules.len().saturating_sub(MAX_RULES);
        book.rules.drain(..excess);
        book.write(entries);
        Ok(Learned {
            rule,
            rules: book.rules,
            replaced,
        })
    })
}

/// Forgets rule `number` (as `rules` lists it) and returns its text. `rules.last` follows: it
/// becomes the newest rule left, or goes when none is left. A number that names no kept rule
/// is exit 2.
pub fn forget(memory: &Memory, number: u64, now: i64) -> Result<String> {
    memory.modify(now, |entries| {
        let mut book = Book::read(entries);
        let Some(at) = book.rules.iter().position(|rule| rule.number == number) else {
            let kept: Vec<String> = book.rules.iter().map(|r| r.number.to_string()).collect();
            return Err(Error::Input(format!(
                "there is no rule {number}: {} (see `nanopy rules`)",
                match kept.len() {
                    0 => "there are no rules".to_string(),
                    1 => format!("there is 1 rule, numbered {}", kept[0]),
                    n => format!("there are {n} rules, numbered {}", kept.join(", ")),
                }
            )));
        };
        let forgotten = book.rules.remove(at);
        book.write(entries);
        Ok(forgotten.text)
    })
}

/// Forgets every learned rule; returns how many there were. Their numbers are not reused.
pub fn clear(memory: &Memory, now: i64) -> Result<usize> {
    memory.modify(now, |entries: &mut Entries| {
        let mut book = Book::read(entries);
        let count = book.rules.len();
        book.rules.clear();
        book.write(entries);
        Ok(count)
    })
}

/// The note that announces a learned rule (SPEC §3.2): its number, the rules it replaced,
/// and how to undo it with `undo` (`nanopy rules-forget N`, or `/forget N` in a chat).
pub fn learned_note(text: &str, number: u64, replaced: &[Rule], undo: &str) -> String {
    if replaced.is_empty() {
        return format!("learned rule {number}: {text}; `{undo}` undoes it");
    }
    let named: Vec<String> = replaced
        .iter()
        .map(|rule| format!("rule {} ({})", rule.number, rule.text))
        .collect();
    let numbers: Vec<String> = replaced
        .iter()
        .map(|rule| rule.number.to_string())
        .collect();
    format!(
        "learned rule {number}: {text}; it replaces {}; `{undo}` undoes it (rule{} {} {} not \
         come back)",
        named.join(" and "),
        if numbers.len() == 1 { "" } else { "s" },
        numbers.join(" and "),
        if numbers.len() == 1 { "does" } else { "do" }
    )
}

/// The one system message every request starts with: the configured prompt, then the rules,
/// newest last, marked as standing preferences where newer ones win.
pub fn system_message(prompt: &str, rules: &[Rule]) -> String {
    if rules.is_empty() {
        return prompt.to_string();
    }
    let mut text = String::from(prompt);
    text.push_str(
        "\n\nStanding preferences the user has given (oldest first; when two conflict, the \
         later one wins). Follow them in every answer:",
    );
    for (place, rule) in rules.iter().enumerate() {
        text.push_str(&format!("\n{}. {}", place + 1, rule.text));
    }
    text
}

/// Rules are the same when they differ only in letter case.
fn same_rule(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// The rules as stored, and the next number to give.
struct Book {
    rules: Vec<Rule>,
    next: u64,
}

impl Book {
    fn read(entries: &Entries) -> Book {
        let mut rules: Vec<Rule> = match entries.get(HISTORY_KEY) {
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .filter_map(|(place, item)| match item {
                    // An older nanopy's plain list: numbered as `rules` showed it.
                    Value::String(text) => Some(Rule {
                        number: place as u64 + 1,
                        text,
                    }),
                    Value::Object(map) => Some(Rule {
                        number: map.get("number")?.as_u64()?,
                        text: map.get("rule")?.as_str()?.to_string(),
                    }),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let highest = rules.iter().map(|rule| rule.number).max().unwrap_or(0);
        let mut next = entries
            .get(NEXT_KEY)
            .and_then(|value| value.as_u64())
            .unwrap_or(0)
            .max(highest + 1);
        // A newer rule written by the Python tool (only `rules.last`) still counts.
        if let Some(Value::String(last)) = entries.get(LAST_KEY)
            && !rules.iter().any(|rule| same_rule(&rule.text, &last))
        {
            rules.push(Rule {
                number: next,
                text: last,
            });
            next += 1;
        }
        Book { rules, next }
    }

    fn write(&self, entries: &mut Entries) {
        let history: Vec<Value> = self
            .rules
            .iter()
            .map(|rule| serde_json::json!({"number": rule.number, "rule": rule.text}))
            .collect();
        match self.rules.last() {
            Some(last) => entries.insert(LAST_KEY, &Value::from(last.text.as_str())),
            None => {
                entries.remove(LAST_KEY);
            }
        }
        if history.is_empty() {
            entries.remove(HISTORY_KEY);
        } else {
            entries.insert(HISTORY_KEY, &Value::Array(history));
        }
        entries.insert(NEXT_KEY, &Value::from(self.next));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(name: &str) -> Memory {
        Memory::open(&crate::test_support::scratch_dir(name).join("memory.json"))
    }

    fn texts(memory: &Memory) -> Vec<String> {
        list(memory, 0)
            .unwrap()
            .into_iter()
            .map(|rule| rule.text)
            .collect()
    }

    fn numbers(memory: &Memory) -> Vec<u64> {
        list(memory, 0)
            .unwrap()
            .iter()
            .map(|rule| rule.number)
            .collect()
    }

    #[test]
    fn history_keeps_newest_twenty_without_duplicates() {
        let memory = memory("history");
        for n in 0..25 {
            learn(&memory, &format!("rule {n}"), 0).unwrap();
        }
        learn(&memory, "RULE 10", 0).unwrap();
        let rules = texts(&memory);
        assert_eq!(rules.len(), MAX_RULES);
        assert_eq!(rules.last().unwrap(), "RULE 10");
        assert_eq!(
            rules
                .iter()
                .filter(|r| r.eq_ignore_ascii_case("rule 10"))
                .count(),
            1
        );
        assert_eq!(rules[0], "rule 5");
        assert_eq!(
            memory.get(LAST_KEY, 0).unwrap(),
            Some(Value::from("RULE 10"))
        );
    }

    #[test]
    fn python_rules_last_alone_counts_as_history() {
        let memory = memory("python");
        std::fs::write(memory.path(), r#"{"rules.last": "be brief"}"#).unwrap();
        assert_eq!(texts(&memory), vec!["be brief"]);
        learn(&memory, "answer in English", 0).unwrap();
        assert_eq!(texts(&memory), vec!["be brief", "answer in English"]);
        assert_eq!(numbers(&memory), [1, 2]);
    }

    #[test]
    fn forget_removes_one_rule_by_number_and_rules_last_follows() {
        let memory = memory("forget");
        for rule in ["a", "b", "c"] {
            learn(&memory, rule, 0).unwrap();
        }
        assert_eq!(forget(&memory, 3, 0).unwrap(), "c");
        assert_eq!(texts(&memory), vec!["a", "b"]);
        // `rules.last` moved to `b`, so `c` does not come back through it.
        assert_eq!(memory.get(LAST_KEY, 0).unwrap(), Some(Value::from("b")));
        assert_eq!(forget(&memory, 1, 0).unwrap(), "a");
        // Numbers stay as they were given: `b` is still rule 2.
        assert_eq!(numbers(&memory), [2]);
        assert_eq!(forget(&memory, 1, 0).unwrap_err().exit_code(), 2);
        assert_eq!(forget(&memory, 2, 0).unwrap(), "b");
        assert_eq!(memory.get(LAST_KEY, 0).unwrap(), None);
        let error = forget(&memory, 1, 0).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("there are no rules"), "{error}");
    }

    #[test]
    fn clear_forgets_everything() {
        let memory = memory("clear");
        learn(&memory, "a", 0).unwrap();
        learn(&memory, "b", 0).unwrap();
        assert_eq!(clear(&memory, 0).unwrap(), 2);
        assert!(list(&memory, 0).unwrap().is_empty());
        // Numbers are never reused, not even after a clear.
        assert_eq!(learn(&memory, "c", 0).unwrap().rule.number, 3);
    }

    #[test]
    fn numbers_are_given_once_and_never_reused() {
        let memory = memory("numbers");
        for rule in ["a", "b", "c"] {
            learn(&memory, rule, 0).unwrap();
        }
        forget(&memory, 1, 0).unwrap();
        assert_eq!(numbers(&memory), [2, 3]);
        forget(&memory, 3, 0).unwrap();
        let rule = learn(&memory, "d", 0).unwrap().rule;
        assert_eq!(rule.number, 4, "3 is not given again");
        // Saying a kept rule again keeps its number and makes it the newest.
        let again = learn(&memory, "B", 0).unwrap();
        assert_eq!(again.rule.number, 2);
        assert_eq!(again.rules.last().unwrap().text, "B");
        assert_eq!(numbers(&memory), [4, 2]);
    }

    #[test]
    fn a_rule_on_the_same_subject_replaces_the_kept_one() {
        let memory = memory("replace");
        learn(&memory, "jawab pakai bahasa Indonesia", 0).unwrap();
        learn(&memory, "keep it short", 0).unwrap();
        let learned = learn(&memory, "answer in English", 0).unwrap();
        assert_eq!(learned.rule.number, 3);
        assert_eq!(learned.replaced.len(), 1);
        assert_eq!(learned.replaced[0].number, 1);
        assert_eq!(texts(&memory), ["keep it short", "answer in English"]);
        // Forgetting the new rule does not bring the old one back.
        forget(&memory, 3, 0).unwrap();
        assert_eq!(texts(&memory), ["keep it short"]);
    }

    #[test]
    fn a_history_written_by_the_second_stage_is_numbered_as_it_was_shown() {
        let memory = memory("migrate");
        std::fs::write(
            memory.path(),
            r#"{"rules.last": "c", "rules.history": ["a", "b", "c"]}"#,
        )
        .unwrap();
        assert_eq!(numbers(&memory), [1, 2, 3]);
        forget(&memory, 1, 0).unwrap();
        assert_eq!(numbers(&memory), [2, 3]);
        assert_eq!(learn(&memory, "d", 0).unwrap().rule.number, 4);
    }

    #[test]
    fn system_message_lists_rules_newest_last() {
        let rule = |number, text: &str| Rule {
            number,
            text: text.into(),
        };
        let text = system_message("P", &[rule(4, "old"), rule(2, "new")]);
        assert!(text.starts_with("P\n\n"));
        assert!(text.find("1. old").unwrap() < text.find("2. new").unwrap());
        assert!(text.contains("later one wins"));
        assert_eq!(system_message("P", &[]), "P");
    }
}
