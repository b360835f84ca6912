//! Which of a conversation's past messages go with a continued turn: the newest exchanges that
//! fit the character budget, oldest dropped first, whole exchanges at a time (a user message
//! with everything that answered it: a reply is never sent without its question, nor a tool
//! call without its results, which servers reject). Pure: the log hands in the turns, newest
//! first; each logged turn is one exchange.

use crate::chat::{Message, Role};

/// The history a continued turn sends, and whether older exchanges were left out.
#[derive(Debug, Default, PartialEq)]
pub struct Fitted {
    pub messages: Vec<Message>,
    /// Some exchange did not fit (the system message then says so).
    pub left_out: bool,
}

/// The messages to send before the new one, oldest first: the newest whole exchanges whose
/// characters add up to at most `budget`. `turns_newest_first` yields each past turn's
/// messages in their own order; it is read only as far as the budget reaches (one turn past
/// it, to know whether anything was left out), so a long conversation costs no more than a
/// short one.
pub fn fit(turns_newest_first: impl IntoIterator<Item = Vec<Message>>, budget: usize) -> Fitted {
    let mut kept: Vec<Vec<Message>> = Vec::new();
    let mut used = 0;
    for turn in turns_newest_first {
        let exchange: Vec<Message> = units(turn).into_iter().flatten().collect();
        let size: usize = exchange.iter().map(chars_of).sum();
        if used + size > budget {
            return Fitted {
                messages: kept.into_iter().rev().flatten().collect(),
                left_out: true,
            };
        }
        used += size;
        kept.push(exchange);
    }
    Fitted {
        messages: kept.into_iter().rev().flatten().collect(),
        left_out: false,
    }
}

/// How much of the budget a message takes: its text and its calls' names and arguments.
pub fn chars_of(message: &Message) -> usize {
    message.content.chars().count()
        + message
            .tool_calls
            .iter()
            .map(|call| {
                call.function.name.chars().count() + call.function.arguments.chars().count()
            })
            .sum::<usize>()
}

/// Splits one turn's messages into the pieces that must travel together: an assistant message
/// with tool calls and the results that answer it form one unit, every other message is a
/// unit alone. A unit that breaks the pairing (a result without its call, a call missing a
/// result) is left out, since no server would accept it.
fn units(messages: Vec<Message>) -> Vec<Vec<Message>> {
    let mut units: Vec<Vec<Message>> = Vec::new();
    for message in messages {
        let answers_last = message.role == Role::Tool
            && units
                .last()
                .and_then(|unit| unit.first())
                .is_some_and(|first| !first.tool_calls.is_empty());
        if answers_last {
            units.last_mut().expect("checked above").push(message);
        } else {
            units.push(vec![message]);
        }
    }
    units.retain(|unit| is_complete(unit));
    units
}

/// A unit is complete when it is a plain message, or a call with a result for each call id.
fn is_complete(unit: &[Message]) -> bool {
    let first = &unit[0];
    if first.role == Role::Tool {
        return false;
    }
    first.tool_calls.iter().all(|call| {
        unit[1..]
            .iter()
            .any(|result| result.tool_call_id.as_deref() == Some(call.id.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{FunctionCall, ToolCall};

    fn text(role: Role, content: &str) -> Message {
        Message::new(role, content)
    }

    fn call(id: &str) -> Message {
        Message {
            tool_calls: vec![ToolCall {
                id: id.into(),
                kind: "function",
                function: FunctionCall {
                    name: "time".into(),
                    arguments: "{}".into(),
                },
            }],
            ..Message::new(Role::Assistant, "")
        }
    }

    fn contents(messages: &[Message]) -> Vec<String> {
        messages
            .iter()
            .map(|m| format!("{:?}:{}", m.role, m.content))
            .collect()
    }

    #[test]
    fn everything_fits_in_a_large_budget_in_order() {
        let turns = vec![
            vec![text(Role::User, "b?"), text(Role::Assistant, "b!")],
            vec![text(Role::User, "a?"), text(Role::Assistant, "a!")],
        ];
        let fitted = fit(turns, 1000);
        assert_eq!(
            contents(&fitted.messages),
            ["User:a?", "Assistant:a!", "User:b?", "Assistant:b!"]
        );
        assert!(!fitted.left_out);
    }

    #[test]
    fn the_oldest_exchanges_are_dropped_first_and_whole() {
        let turns = vec![
            vec![text(Role::User, "new?"), text(Role::Assistant, "new!")],
            vec![text(Role::User, "old?"), text(Role::Assistant, "old!")],
        ];
        // 12 characters would hold "old!" too, but never a reply without its question
        // (issue 26, defect 11): the whole older exchange goes, and that is said.
        let fitted = fit(turns, 12);
        assert_eq!(contents(&fitted.messages), ["User:new?", "Assistant:new!"]);
        assert!(fitted.left_out);
    }

    #[test]
    fn a_huge_exchange_is_left_out_whole_not_as_an_orphaned_reply() {
        let turns = vec![vec![
            text(Role::User, &"x".repeat(1000)),
            text(Role::Assistant, "ok"),
        ]];
        let fitted = fit(turns, 100);
        assert!(fitted.messages.is_empty());
        assert!(fitted.left_out);
    }

    #[test]
    fn a_tool_call_and_its_result_go_together_or_not_at_all() {
        let mut result = Message::tool_result("c1", "1700000000");
        result.content = "1700000000".into();
        let turns = vec![vec![
            text(Role::User, "t?"),
            call("c1"),
            result,
            text(Role::Assistant, "now"),
        ]];
        // The exchange needs 2 + 6 + 10 + 3 = 21 characters: with 20 nothing of it goes.
        assert!(fit(turns.clone(), 20).messages.is_empty());
        let all = fit(turns, 100).messages;
        assert_eq!(all.len(), 4);
        assert_eq!(all[1].tool_calls[0].id, "c1");
        assert_eq!(all[2].tool_call_id.as_deref(), Some("c1"));
    }

    #[test]
    fn a_result_without_its_call_and_a_call_without_its_result_are_left_out() {
        let turns = vec![vec![
            text(Role::User, "q"),
            Message::tool_result("orphan", "x"),
            call("c2"),
            text(Role::Assistant, "a"),
        ]];
        assert_eq!(
            contents(&fit(turns, 100).messages),
            ["User:q", "Assistant:a"]
        );
    }

    #[test]
    fn turns_past_the_budget_are_not_read() {
        let mut read = 0;
        let turns = (0..1000).map(|_| {
            read += 1;
            vec![text(Role::User, "0123456789")]
        });
        assert_eq!(fit(turns, 35).messages.len(), 3);
        assert_eq!(read, 4);
    }
}
