//! A model's reasoning is never shown, stored, delivered or sent back (SPEC §15): a leading
//! `<think>…</think>` (or `<thinking>`) block in the content, or everything up to a
//! `</think>` that has no opening tag (templates that open the block themselves), is cut.
//! Pure; [`StreamFilter`] does the same for text that arrives in pieces.

const OPENINGS: [&str; 2] = ["<think>", "<thinking>"];
const CLOSINGS: [&str; 2] = ["</think>", "</thinking>"];

/// The content without its reasoning.
pub fn strip(content: &str) -> String {
    let trimmed = content.trim_start();
    if OPENINGS.iter().any(|open| trimmed.starts_with(open)) {
        return match after_closing(trimmed) {
            Some(rest) => rest.trim_start().to_string(),
            // Cut off mid-thought: nothing of it is an answer.
            None => String::new(),
        };
    }
    match after_closing(content) {
        Some(rest) => rest.trim_start().to_string(),
        None => content.to_string(),
    }
}

/// What follows the first closing tag, if there is one.
fn after_closing(text: &str) -> Option<&str> {
    CLOSINGS
        .iter()
        .filter_map(|close| text.find(close).map(|at| &text[at + close.len()..]))
        .next()
}

/// Streamed text with a leading reasoning block held back: text that may still turn out to
/// open one (it starts with `<`) waits until that is decided, a block is swallowed to its
/// closing tag, everything else passes at once.
#[derive(Debug, Default)]
pub struct StreamFilter {
    /// Text not yet decided about.
    held: String,
    state: State,
}

#[derive(Debug, Default, PartialEq)]
enum State {
    /// Nothing printable seen yet.
    #[default]
    Start,
    /// Inside a reasoning block.
    Thinking,
    /// Just past a block: white space before the answer is dropped.
    After,
    /// Past it (or there was none): everything passes.
    Open,
}

impl StreamFilter {
    /// Takes the next piece; returns what may be printed now.
    pub fn push(&mut self, piece: &str) -> String {
        match self.state {
            State::Open => return piece.to_string(),
            State::After => {
                let rest = piece.trim_start();
                if !rest.is_empty() {
                    self.state = State::Open;
                }
                return rest.to_string();
            }
            _ => {}
        }
        self.held.push_str(piece);
        if self.state == State::Start {
            let start = self.held.trim_start();
            if start.is_empty() {
                return String::new();
            }
            let may_open = OPENINGS
                .iter()
                .any(|open| open.starts_with(start) || start.starts_with(open));
            if !may_open {
                self.state = State::Open;
                return std::mem::take(&mut self.held);
            }
            if !OPENINGS.iter().any(|open| start.starts_with(open)) {
                return String::new(); // `<thi`: not decided yet
            }
            self.state = State::Thinking;
        }
        match after_closing(&self.held) {
            Some(rest) => {
                let rest = rest.trim_start().to_string();
                self.held.clear();
                self.state = if rest.is_empty() {
                    State::After
                } else {
                    State::Open
                };
                rest
            }
            None => String::new(),
        }
    }

    /// The end of the stream: held text that never became a block is printed.
    pub fn finish(&mut self) -> String {
        match self.state {
            State::Start => std::mem::take(&mut self.held),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_block_is_cut_and_the_answer_kept() {
        assert_eq!(strip("<think>plan\nsteps</think>\n\nHello."), "Hello.");
        assert_eq!(strip("  <thinking>x</thinking>Hi"), "Hi");
        assert_eq!(strip("planning first</think>Answer"), "Answer");
        assert_eq!(strip("<think>cut off"), "");
        assert_eq!(strip("Plain answer."), "Plain answer.");
        // A tag in the middle of an answer, quoted, is not a leading block.
        assert_eq!(strip("Use <think> tags"), "Use <think> tags");
    }

    fn streamed(pieces: &[&str]) -> String {
        let mut filter = StreamFilter::default();
        let mut out: String = pieces.iter().map(|piece| filter.push(piece)).collect();
        out.push_str(&filter.finish());
        out
    }

    #[test]
    fn a_block_split_across_pieces_is_held_back() {
        assert_eq!(
            streamed(&["<thi", "nk>sec", "ret</th", "ink>", "\n\nHel", "lo"]),
            "Hello"
        );
        assert_eq!(streamed(&["<thinking>", "x", "</thinking>Hi"]), "Hi");
        assert_eq!(streamed(&["Hel", "lo <think>"]), "Hello <think>");
        assert_eq!(streamed(&["<b>bold", "</b>"]), "<b>bold</b>");
        assert_eq!(streamed(&["<", "3 you"]), "<3 you");
        assert_eq!(streamed(&["<thi"]), "<thi");
        assert_eq!(streamed(&["<think>never closed"]), "");
    }
}
