//! Helpers shared by the unit tests of several modules.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh, empty directory for one test, unique across tests and test processes.
pub fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("nanopy-unit-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A chat-completions server on 127.0.0.1 for unit tests: it answers the n-th request with
/// the n-th of its bodies (then with the last one again), over kept-alive connections, and
/// records each request's head and body.
pub struct FakeChatServer {
    pub base_url: String,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl FakeChatServer {
    pub fn start(bodies: Vec<String>) -> FakeChatServer {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut head = String::new();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            break;
                        }
                        if let Some(value) =
                            line.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                        head.push_str(&line);
                        if line == "\r\n" {
                            break;
                        }
                    }
                    if head.is_empty() {
                        break;
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let mut seen = seen.lock().unwrap();
                    let answer = bodies[seen.len().min(bodies.len() - 1)].clone();
                    seen.push(head + &String::from_utf8_lossy(&body));
                    drop(seen);
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if writer.write_all(response.as_bytes()).is_err() {
                        break;
                    }
                }
            }
        });
        FakeChatServer { base_url, requests }
    }
}

/// A classifier's answers against labels, for precision and recall.
#[derive(Default)]
pub struct Tally {
    true_positives: f64,
    false_positives: f64,
    false_negatives: f64,
}

impl Tally {
    /// Counts one answer, and says how it was wrong, if it was.
    pub fn count(&mut self, label: bool, answer: bool) -> Option<&'static str> {
        match (label, answer) {
            (true, true) => self.true_positives += 1.0,
            (false, true) => {
                self.false_positives += 1.0;
                return Some("false positive");
            }
            (true, false) => {
                self.false_negatives += 1.0;
                return Some("missed");
            }
            (false, false) => {}
        }
        None
    }

    pub fn precision(&self) -> f64 {
        self.true_positives / (self.true_positives + self.false_positives)
    }

    pub fn recall(&self) -> f64 {
        self.true_positives / (self.true_positives + self.false_negatives)
    }
}

/// Precision and recall per language ("en", "id", then "all") on a labelled TSV set: lines
/// `label<TAB>lang<TAB>fields…`, `#` comments. `classify` answers for the fields after the
/// language and says how to show them. Returns the report (every wrong answer, then the
/// figures) and (language, count, precision, recall) for each.
pub fn per_language_figures(
    data: &str,
    unit: &str,
    classify: &dyn Fn(&[&str]) -> (bool, String),
) -> (String, Vec<(&'static str, usize, f64, f64)>) {
    let mut report = String::new();
    let mut figures = Vec::new();
    for lang in ["en", "id", "all"] {
        let (mut tally, mut count) = (Tally::default(), 0);
        for line in data.lines().filter(|line| line.starts_with(['0', '1'])) {
            let fields: Vec<&str> = line.split('\t').collect();
            if lang != "all" && fields[1] != lang {
                continue;
            }
            count += 1;
            let (answer, shown) = classify(&fields[2..]);
            if let Some(wrong) = tally.count(fields[0] == "1", answer) {
                report.push_str(&format!("  {wrong}: {shown}\n"));
            }
        }
        let (precision, recall) = (tally.precision(), tally.recall());
        report.push_str(&format!(
            "{lang}: {count} {unit}, precision {precision:.3}, recall {recall:.3}\n"
        ));
        figures.push((lang, count, precision, recall));
    }
    (report, figures)
}

/// The labelled lines (not comments) of one or more TSV sets, in order.
pub fn labelled_rows<'a>(sets: &[&'a str]) -> Vec<&'a str> {
    sets.iter()
        .flat_map(|set| set.lines())
        .filter(|line| line.starts_with(['0', '1']))
        .collect()
}
