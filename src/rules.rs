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
/// The memory key of the rule history.
pub const HISTORY_KEY: &str = "rules.history";
/// How many rules we keep.
pub const MAX_RULES: usize = 20;

/// The rules in force, oldest first.
pub fn list(memory: &Memory, now: i64) -> Result<Vec<String>> {
    memory.inspect(now, |entries| {
        from_values(entries.get(HISTORY_KEY), entries.get(LAST_KEY))
    })
}

/// Records a newly learned rule and returns the rules now in force, oldest first. Saying a rule
/// again moves it to the newest place instead of storing it twice (compared
/// case-insensitively), so it wins over rules said since.
pub fn learn(memory: &Memory, rule: &str, now: i64) -> Result<Vec<String>> {
    memory.modify(now, |entries| {
        let mut rules = from_values(entries.get(HISTORY_KEY), entries.get(LAST_KEY));
        rules.retain(|old| !same_rule(old, rule));
        rules.push(rule.to_string());
        let excess = rules.len().saturating_sub(MAX_RULES);
        rules.drain(..excess);
        entries.insert(LAST_KEY, &Value::from(rule));
        entries.insert(HISTORY_KEY, &Value::from(rules.clone()));
        Ok(rules)
    })
}

/// Forgets rule `number` (1 is the oldest, as `rules` lists them) and returns it. `rules.last`
/// follows: it becomes the newest rule left, or goes when none is left.
pub fn forget(memory: &Memory, number: usize, now: i64) -> Result<String> {
    memory.modify(now, |entries| {
        let mut rules = from_values(entries.get(HISTORY_KEY), entries.get(LAST_KEY));
        if number == 0 || number > rules.len() {
            return Err(Error::Input(format!(
                "there is no rule {number}: there {} (see `nanopy rules`)",
                match rules.len() {
                    0 => "are no rules".to_string(),
                    1 => "is 1 rule".to_string(),
                    n => format!("are {n} rules"),
                }
            )));
        }
        let forgotten = rules.remove(number - 1);
        match rules.last() {
            Some(last) => entries.insert(LAST_KEY, &Value::from(last.as_str())),
            None => {
                entries.remove(LAST_KEY);
            }
        }
        entries.insert(HISTORY_KEY, &Value::from(rules));
        Ok(forgotten)
    })
}

/// Forgets every learned rule; returns how many there were.
pub fn clear(memory: &Memory, now: i64) -> Result<usize> {
    memory.modify(now, |entries: &mut Entries| {
        let count = from_values(entries.get(HISTORY_KEY), entries.get(LAST_KEY)).len();
        entries.remove(HISTORY_KEY);
        entries.remove(LAST_KEY);
        Ok(count)
    })
}

/// The one system message every request starts with: the configured prompt, then the rules,
/// newest last, marked as standing preferences where newer ones win.
pub fn system_message(prompt: &str, rules: &[String]) -> String {
    if rules.is_empty() {
        return prompt.to_string();
    }
    let mut text = String::from(prompt);
    text.push_str(
        "\n\nStanding preferences the user has given (oldest first; when two conflict, the \
         later one wins). Follow them in every answer:",
    );
    for (number, rule) in rules.iter().enumerate() {
        text.push_str(&format!("\n{}. {rule}", number + 1));
    }
    text
}

/// Rules are the same when they differ only in letter case.
fn same_rule(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn from_values(history: Option<Value>, last: Option<Value>) -> Vec<String> {
    let mut rules: Vec<String> = match history {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    // A newer rule written by the Python tool (only `rules.last`) still counts.
    if let Some(Value::String(last)) = last
        && !rules.iter().any(|rule| same_rule(rule, &last))
    {
        rules.push(last);
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(name: &str) -> Memory {
        Memory::open(&crate::test_support::scratch_dir(name).join("memory.json"))
    }

    #[test]
    fn history_keeps_newest_twenty_without_duplicates() {
        let memory = memory("history");
        for n in 0..25 {
            learn(&memory, &format!("rule {n}"), 0).unwrap();
        }
        learn(&memory, "RULE 10", 0).unwrap();
        let rules = list(&memory, 0).unwrap();
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
        assert_eq!(list(&memory, 0).unwrap(), vec!["be brief"]);
        learn(&memory, "answer in English", 0).unwrap();
        assert_eq!(
            list(&memory, 0).unwrap(),
            vec!["be brief", "answer in English"]
        );
    }

    #[test]
    fn forget_removes_one_rule_by_number_and_rules_last_follows() {
        let memory = memory("forget");
        for rule in ["a", "b", "c"] {
            learn(&memory, rule, 0).unwrap();
        }
        assert_eq!(forget(&memory, 3, 0).unwrap(), "c");
        assert_eq!(list(&memory, 0).unwrap(), vec!["a", "b"]);
        // `rules.last` moved to `b`, so `c` does not come back through it.
        assert_eq!(memory.get(LAST_KEY, 0).unwrap(), Some(Value::from("b")));
        assert_eq!(forget(&memory, 1, 0).unwrap(), "a");
        assert_eq!(forget(&memory, 1, 0).unwrap(), "b");
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
    }

    #[test]
    fn system_message_lists_rules_newest_last() {
        let text = system_message("P", &["old".into(), "new".into()]);
        assert!(text.starts_with("P\n\n"));
        assert!(text.find("1. old").unwrap() < text.find("2. new").unwrap());
        assert!(text.contains("later one wins"));
        assert_eq!(system_message("P", &[]), "P");
    }
}
