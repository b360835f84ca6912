//! Which of a conversation's past messages go with a continued turn: the newest that fit the
//! character budget, oldest dropped first, and an assistant's tool calls never parted from
//! their results (servers reject a tool result without its call, and a call without results).
//! Pure: the log hands in the turns, newest first.

use crate::chat::{Message, Role};

/// The messages to send before the new one, oldest first. `turns_newest_first` yields each
/// past turn's messages in their own order; it is read only as far as the budget reaches, so
/// a long conversation costs no more than a short one.
pub fn fit(
    turns_newest_first: impl IntoIterator<Item = Vec<Message>>,
    budget: usize,
) -> Vec<Message> {
    let mut kept: Vec<Vec<Message>> = Vec::new();
    let mut used = 0;
    'turns: for turn in turns_newest_first {
        for unit in units(turn).into_iter().rev() {
            let size: usize = unit.iter().map(chars_of).sum();
            if used + size > budget {
                break 'turns;
            }
            used += size;
            kept.push(unit);
        }
    }
    kept.into_iter().rev().flatten().collect()
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

/// How much of the budget a message takes: its text and its calls' names and arguments.
fn chars_of(message: &Message) -> usize {
    message.content.chars().count()
        + message
            .tool_calls
            .iter()
            .map(|call| {
                call.function.name.chars().count() + call.function.arguments.chars().count()
            })
            .sum::<usize>()
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
        assert_eq!(
            contents(&fit(turns, 1000)),
            ["User:a?", "Assistant:a!", "User:b?", "Assistant:b!"]
        );
    }

    #[test]
    fn the_oldest_messages_are_dropped_first() {
        let turns = vec![
            vec![text(Role::User, "new?"), text(Role::Assistant, "new!")],
            vec![text(Role::User, "old?"), text(Role::Assistant, "old!")],
        ];
        // "new?" + "new!" + "old!" = 12 characters: the oldest message, "old?", goes.
        assert_eq!(
            contents(&fit(turns, 12)),
            ["Assistant:old!", "User:new?", "Assistant:new!"]
        );
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
        // The call (4 + 2 characters) and result (10) need 16; with 15 left after "now" the
        // pair is dropped whole, and so is everything older.
        assert_eq!(contents(&fit(turns.clone(), 18)), ["Assistant:now"]);
        let all = fit(turns, 100);
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
        assert_eq!(contents(&fit(turns, 100)), ["User:q", "Assistant:a"]);
    }

    #[test]
    fn turns_past_the_budget_are_not_read() {
        let mut read = 0;
        let turns = (0..1000).map(|_| {
            read += 1;
            vec![text(Role::User, "0123456789")]
        });
        assert_eq!(fit(turns, 35).len(), 3);
        assert_eq!(read, 4);
    }
}
