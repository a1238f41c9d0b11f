//! Nix's `--log-format internal-json` log: one `@nix {json}` line per
//! event. [`BuildLog`] folds the events into what a person wants to see:
//! how many derivations are built and fetched of how many, which ones are
//! running, their log lines, and the messages (errors with positions).

use std::collections::{HashMap, VecDeque};

use serde::Deserialize;

/// Activity types (Nix's `ActivityType`).
mod activity {
    pub const COPY_PATH: u64 = 100;
    pub const FILE_TRANSFER: u64 = 101;
    pub const COPY_PATHS: u64 = 103;
    pub const BUILDS: u64 = 104;
    pub const BUILD: u64 = 105;
    pub const SUBSTITUTE: u64 = 108;
}

/// Result types (Nix's `ResultType`).
mod result {
    pub const BUILD_LOG_LINE: u64 = 101;
    pub const SET_PHASE: u64 = 104;
    pub const PROGRESS: u64 = 105;
    pub const SET_EXPECTED: u64 = 106;
    pub const POST_BUILD_LOG_LINE: u64 = 107;
}

/// Log lines kept per build, for showing a failure.
const TAIL: usize = 25;

#[derive(Debug, Deserialize)]
struct Raw {
    action: String,
    #[serde(default)]
    id: u64,
    #[serde(default, rename = "type")]
    kind: u64,
    #[serde(default)]
    level: u32,
    #[serde(default)]
    fields: Vec<serde_json::Value>,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    raw_msg: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    line: Option<u32>,
    #[serde(default)]
    column: Option<u32>,
}

impl Raw {
    /// The `i`th field as text ("" when absent).
    fn text(&self, i: usize) -> String {
        self.fields
            .get(i)
            .and_then(|f| f.as_str())
            .unwrap_or("")
            .to_string()
    }
}

/// A message Nix printed (`error: ...`, `warning: ...`, `trace: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// 0 error, 1 warning, higher is chatter.
    pub level: u32,
    /// The whole text, colours removed.
    pub text: String,
    /// Just the message, without the position and snippet Nix adds.
    pub short: Option<String>,
    /// Where Nix says the error is.
    pub position: Option<(String, u32, u32)>,
}

/// Counters of one kind of work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub done: u64,
    pub expected: u64,
    pub running: u64,
    pub failed: u64,
}

/// One thing Nix is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub kind: u64,
    /// The derivation or store path name, `hello-2.12` for
    /// `/nix/store/<hash>-hello-2.12.drv`.
    pub name: String,
    /// The remote builder it runs on, empty for this machine.
    pub machine: String,
    pub phase: Option<String>,
}

/// What changed with one log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// A derivation build began.
    BuildStarted {
        name: String,
        machine: String,
    },
    /// A derivation build ended (successfully or not: see the counts).
    BuildStopped {
        name: String,
    },
    /// A store path is being fetched (substituted or copied).
    FetchStarted {
        name: String,
    },
    Phase {
        name: String,
        phase: String,
    },
    /// A line of a builder's output.
    LogLine {
        name: String,
        line: String,
    },
    Message(Message),
    /// The counters moved.
    Counts,
    /// A line that is not part of the JSON log (printed as is).
    Plain(String),
    /// Nothing worth showing.
    Nothing,
}

#[derive(Debug, Default)]
pub struct BuildLog {
    activities: HashMap<u64, Activity>,
    kinds: HashMap<u64, u64>,
    pub builds: Counts,
    pub fetches: Counts,
    /// The last lines of each build's output, by derivation name.
    tails: HashMap<String, VecDeque<String>>,
    pub messages: Vec<Message>,
    /// The derivations whose builder failed, by name.
    pub failed: Vec<String>,
    /// Whether any build or fetch started (evaluation is over).
    pub realising: bool,
}

impl BuildLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// The builds running now, oldest first.
    pub fn running(&self) -> Vec<&Activity> {
        let mut running: Vec<(&u64, &Activity)> = self
            .activities
            .iter()
            .filter(|(_, a)| a.kind == activity::BUILD)
            .collect();
        running.sort_by_key(|(id, _)| **id);
        running.into_iter().map(|(_, a)| a).collect()
    }

    /// The last lines a build printed.
    pub fn tail(&self, name: &str) -> Vec<String> {
        self.tails
            .get(name)
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn errors(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(|m| m.level == 0)
    }

    /// Fold one stderr line into the state.
    pub fn apply(&mut self, line: &str) -> Update {
        let Some(json) = line.strip_prefix("@nix ") else {
            return Update::Plain(line.to_string());
        };
        let Ok(raw) = serde_json::from_str::<Raw>(json) else {
            return Update::Plain(line.to_string());
        };
        match raw.action.as_str() {
            "start" => self.start(raw),
            "stop" => {
                self.kinds.remove(&raw.id);
                match self.activities.remove(&raw.id) {
                    Some(a) if a.kind == activity::BUILD => Update::BuildStopped { name: a.name },
                    _ => Update::Nothing,
                }
            }
            "result" => self.result(raw),
            "msg" => {
                let message = Message {
                    level: raw.level,
                    text: strip_ansi(&raw.msg),
                    short: raw.raw_msg.as_deref().map(strip_ansi),
                    position: match (raw.file, raw.line) {
                        (Some(file), Some(line)) => Some((file, line, raw.column.unwrap_or(1))),
                        _ => None,
                    },
                };
                if let Some(name) = failed_build(&message.text) {
                    self.failed.push(name);
                }
                self.messages.push(message.clone());
                Update::Message(message)
            }
            _ => Update::Nothing,
        }
    }

    fn start(&mut self, raw: Raw) -> Update {
        self.kinds.insert(raw.id, raw.kind);
        let field = |i: usize| raw.text(i);
        match raw.kind {
            activity::BUILD => {
                self.realising = true;
                let name = store_name(&field(0));
                let machine = field(1);
                self.activities.insert(
                    raw.id,
                    Activity {
                        kind: raw.kind,
                        name: name.clone(),
                        machine: machine.clone(),
                        phase: None,
                    },
                );
                Update::BuildStarted { name, machine }
            }
            activity::COPY_PATH | activity::SUBSTITUTE => {
                self.realising = true;
                let name = store_name(&field(0));
                self.activities.insert(
                    raw.id,
                    Activity {
                        kind: raw.kind,
                        name: name.clone(),
                        machine: String::new(),
                        phase: None,
                    },
                );
                Update::FetchStarted { name }
            }
            activity::FILE_TRANSFER => Update::Nothing,
            _ => Update::Nothing,
        }
    }

    fn result(&mut self, raw: Raw) -> Update {
        let number = |i: usize| raw.fields.get(i).and_then(|f| f.as_u64()).unwrap_or(0);
        match raw.kind {
            result::BUILD_LOG_LINE | result::POST_BUILD_LOG_LINE => {
                let Some(activity) = self.activities.get(&raw.id) else {
                    return Update::Nothing;
                };
                let line = raw.text(0);
                let tail = self.tails.entry(activity.name.clone()).or_default();
                if tail.len() == TAIL {
                    tail.pop_front();
                }
                tail.push_back(line.clone());
                Update::LogLine {
                    name: activity.name.clone(),
                    line,
                }
            }
            result::SET_PHASE => {
                let Some(activity) = self.activities.get_mut(&raw.id) else {
                    return Update::Nothing;
                };
                let phase = raw.text(0);
                activity.phase = Some(phase.clone());
                Update::Phase {
                    name: activity.name.clone(),
                    phase,
                }
            }
            result::PROGRESS => {
                let counts = Counts {
                    done: number(0),
                    expected: number(1),
                    running: number(2),
                    failed: number(3),
                };
                match self.kinds.get(&raw.id) {
                    Some(&activity::BUILDS) if counts != self.builds => {
                        self.builds = counts;
                        Update::Counts
                    }
                    Some(&activity::COPY_PATHS) if counts != self.fetches => {
                        self.fetches = counts;
                        Update::Counts
                    }
                    _ => Update::Nothing,
                }
            }
            result::SET_EXPECTED => {
                // The number of builds (or paths to copy) still to come.
                let (kind, expected) = (number(0), number(1));
                match self.kinds.get(&raw.id) {
                    Some(_) if kind == activity::BUILD && expected != self.builds.expected => {
                        self.builds.expected = expected;
                        Update::Counts
                    }
                    Some(_) if kind == activity::COPY_PATH && expected != self.fetches.expected => {
                        self.fetches.expected = expected;
                        Update::Counts
                    }
                    _ => Update::Nothing,
                }
            }
            _ => Update::Nothing,
        }
    }
}

/// The derivation named by Nix's "builder for '<drv>' failed" message.
pub fn failed_build(text: &str) -> Option<String> {
    let rest = text.split_once("builder for '")?.1;
    let (path, rest) = rest.split_once('\'')?;
    rest.trim_start()
        .starts_with("failed")
        .then(|| store_name(path))
}

/// `hello-2.12` for `/nix/store/<hash>-hello-2.12.drv`; the text itself
/// when it is no store path.
pub fn store_name(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    let base = base.strip_suffix(".drv").unwrap_or(base);
    match base.split_once('-') {
        Some((hash, name)) if hash.len() == 32 => name.to_string(),
        _ => base.to_string(),
    }
}

/// Remove terminal colour sequences.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then one final byte.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines from a real `nix build --log-format internal-json` (Nix 2.8).
    const LOG: &str = r#"@nix {"action":"start","id":61684320305152,"level":4,"text":"copying '/tmp/nixtry'","type":0}
@nix {"action":"stop","id":61684320305152}
@nix {"action":"start","id":61684320305153,"level":0,"text":"","type":102}
@nix {"action":"start","id":61684320305154,"level":0,"text":"","type":104}
@nix {"action":"start","id":61684320305155,"level":0,"text":"","type":103}
@nix {"action":"result","fields":[0,1,0,0],"id":61684320305154,"type":105}
@nix {"action":"start","fields":["/nix/store/k7y3akwhryk5xaxi9i2ssvf6k1l5lm8n-hello-image.drv","",1,1],"id":61684320305157,"level":3,"text":"building '/nix/store/k7y3akwhryk5xaxi9i2ssvf6k1l5lm8n-hello-image.drv'","type":105}
@nix {"action":"result","fields":[0,1,1,0],"id":61684320305154,"type":105}
@nix {"action":"result","fields":["hi3"],"id":61684320305157,"type":101}
@nix {"action":"result","fields":[1,1,0,0],"id":61684320305154,"type":105}
@nix {"action":"stop","id":61684320305157}
@nix {"action":"stop","id":61684320305155}
@nix {"action":"stop","id":61684320305154}"#;

    #[test]
    fn follows_a_build() {
        let mut log = BuildLog::new();
        let updates: Vec<Update> = LOG.lines().map(|l| log.apply(l)).collect();
        assert!(updates.contains(&Update::BuildStarted {
            name: "hello-image".into(),
            machine: String::new()
        }));
        assert!(updates.contains(&Update::LogLine {
            name: "hello-image".into(),
            line: "hi3".into()
        }));
        assert!(updates.contains(&Update::BuildStopped {
            name: "hello-image".into()
        }));
        assert_eq!(
            log.builds,
            Counts {
                done: 1,
                expected: 1,
                running: 0,
                failed: 0
            }
        );
        assert!(log.realising);
        assert!(log.running().is_empty());
        assert_eq!(log.tail("hello-image"), ["hi3"]);
    }

    #[test]
    fn reads_messages_with_positions() {
        let mut log = BuildLog::new();
        let line = r#"@nix {"action":"msg","column":7,"file":"/nix/store/pc8lx1fxa4zlnkgahf2yfidzjpkm6kfs-source/configuration.nix","level":0,"line":4,"msg":"\u001b[31;1merror:\u001b[0m attribute '\u001b[35;1mgreeting\u001b[0m' missing","raw_msg":"attribute '\u001b[35;1mgreeting\u001b[0m' missing"}"#;
        let Update::Message(message) = log.apply(line) else {
            panic!("a message");
        };
        assert_eq!(message.text, "error: attribute 'greeting' missing");
        assert_eq!(
            message.short.as_deref(),
            Some("attribute 'greeting' missing")
        );
        assert_eq!(
            message.position,
            Some((
                "/nix/store/pc8lx1fxa4zlnkgahf2yfidzjpkm6kfs-source/configuration.nix".into(),
                4,
                7
            ))
        );
        assert_eq!(log.errors().count(), 1);
    }

    #[test]
    fn failed_builds_are_remembered() {
        let mut log = BuildLog::new();
        let line = r#"@nix {"action":"msg","column":null,"file":null,"level":0,"line":null,"msg":"\u001b[31;1merror:\u001b[0m builder for '\u001b[35;1m/nix/store/f0q7n4l797n4nmr2clc5vwg5cydsqhfz-demo-5-rootfs.drv\u001b[0m' failed with exit code 1","raw_msg":"builder for '\u001b[35;1m/nix/store/f0q7n4l797n4nmr2clc5vwg5cydsqhfz-demo-5-rootfs.drv\u001b[0m' failed with exit code 1"}"#;
        log.apply(line);
        assert_eq!(log.failed, ["demo-5-rootfs"]);
        assert_eq!(log.errors().next().map(|m| m.position.clone()), Some(None));
    }

    #[test]
    fn other_lines_pass_through() {
        let mut log = BuildLog::new();
        assert_eq!(
            log.apply("warning: Git tree is dirty"),
            Update::Plain("warning: Git tree is dirty".into())
        );
        assert_eq!(
            log.apply("@nix {not json"),
            Update::Plain("@nix {not json".into())
        );
    }

    #[test]
    fn names_of_store_paths() {
        assert_eq!(
            store_name("/nix/store/k7y3akwhryk5xaxi9i2ssvf6k1l5lm8n-hello-2.12.drv"),
            "hello-2.12"
        );
        assert_eq!(store_name("something"), "something");
    }
}
