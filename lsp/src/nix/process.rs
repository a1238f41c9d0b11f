//! Running Nix (or an external formatter) as a child process with a time
//! limit and, for evaluation, a memory limit, streaming its stderr line by
//! line.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Limits for one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Kill the process (and everything it started) after this long.
    pub timeout: Option<Duration>,
    /// Address-space limit (`RLIMIT_AS`) in bytes. Only for evaluation:
    /// builders inherit it, and builds legitimately need memory.
    pub memory_bytes: Option<u64>,
}

/// What the stderr callback wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// The phase the timeout guards (evaluation) is over: run to the end.
    ClearTimeout,
}

#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
}

#[derive(Debug)]
pub enum RunError {
    /// The program is not installed (or not on PATH).
    NotFound,
    Spawn(std::io::Error),
    TimedOut(Duration),
}

/// Run `command`, calling `on_line` for each stderr line as it arrives.
pub fn run(
    command: Command,
    limits: Limits,
    on_line: &mut dyn FnMut(&str) -> Control,
) -> Result<Finished, RunError> {
    run_with_input(command, None, limits, on_line)
}

/// As [`run`], with `input` written to the child's stdin (then closed).
pub fn run_with_input(
    mut command: Command,
    input: Option<Vec<u8>>,
    limits: Limits,
    on_line: &mut dyn FnMut(&str) -> Control,
) -> Result<Finished, RunError> {
    command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a timeout ends the builders and
        // evaluators Nix started too.
        .process_group(0);
    if let Some(bytes) = limits.memory_bytes {
        let limit = libc::rlimit {
            rlim_cur: bytes as libc::rlim_t,
            rlim_max: bytes as libc::rlim_t,
        };
        // SAFETY: setrlimit is async-signal-safe and touches no memory of
        // the parent; the closure captures only a plain struct.
        unsafe {
            command.pre_exec(move || {
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = command.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            RunError::NotFound
        } else {
            RunError::Spawn(e)
        }
    })?;
    let pid = child.id() as libc::pid_t;
    // A writer of its own: a child that fills its stdout before reading
    // all of stdin must not deadlock us. A child that exits early closes
    // the pipe; that error is its business.
    let stdin_writer = child.stdin.take().zip(input).map(|(mut stdin, input)| {
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        })
    });
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let stdout_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let (sender, lines) = mpsc::channel::<String>();
    let stderr_reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match reader.read_until(b'\n', &mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buffer);
                    if sender
                        .send(line.trim_end_matches(['\n', '\r']).to_string())
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    let started = Instant::now();
    let mut deadline = limits.timeout.map(|t| started + t);
    let timed_out = loop {
        let received = match deadline {
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    break true;
                }
                lines.recv_timeout(deadline - now)
            }
            None => lines
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(line) => {
                if on_line(&line) == Control::ClearTimeout {
                    deadline = None;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break true,
            Err(mpsc::RecvTimeoutError::Disconnected) => break false,
        }
    };
    if timed_out {
        // SAFETY: plain syscall; the group is the child's own (process_group(0)).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = child.wait();
        let _ = stderr_reader.join();
        let _ = stdout_reader.join();
        return Err(RunError::TimedOut(limits.timeout.unwrap_or_default()));
    }
    let status = child.wait().map_err(RunError::Spawn)?;
    if let Some(writer) = stdin_writer {
        let _ = writer.join();
    }
    let _ = stderr_reader.join();
    let stdout = stdout_reader.join().unwrap_or_default();
    Ok(Finished { status, stdout })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_lines_and_collects_stdout() {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "echo out; echo one >&2; echo two >&2; exit 3"]);
        let mut seen = Vec::new();
        let finished = run(command, Limits::default(), &mut |line| {
            seen.push(line.to_string());
            Control::Continue
        })
        .expect("sh runs");
        assert_eq!(seen, ["one", "two"]);
        assert_eq!(finished.stdout, b"out\n");
        assert_eq!(finished.status.code(), Some(3));
    }

    #[test]
    fn input_reaches_stdin() {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "tr a-z A-Z"]);
        let input = "abc\n".repeat(100_000).into_bytes();
        let finished = run_with_input(command, Some(input), Limits::default(), &mut |_| {
            Control::Continue
        })
        .expect("sh runs");
        assert_eq!(finished.stdout, "ABC\n".repeat(100_000).into_bytes());
    }

    #[test]
    fn a_timeout_kills_the_whole_group() {
        let mut command = Command::new("/bin/sh");
        // The grandchild keeps stderr open; it must die with the group or
        // the reader would never see the end.
        command.args(["-c", "sleep 30 & sleep 30"]);
        let started = Instant::now();
        let result = run(
            command,
            Limits {
                timeout: Some(Duration::from_millis(300)),
                memory_bytes: None,
            },
            &mut |_| Control::Continue,
        );
        assert!(matches!(result, Err(RunError::TimedOut(_))), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn clearing_the_timeout_lets_it_finish() {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "echo go >&2; sleep 1; echo done >&2"]);
        let mut seen = Vec::new();
        let finished = run(
            command,
            Limits {
                timeout: Some(Duration::from_millis(500)),
                memory_bytes: None,
            },
            &mut |line| {
                seen.push(line.to_string());
                Control::ClearTimeout
            },
        )
        .expect("runs to the end");
        assert!(finished.status.success());
        assert_eq!(seen, ["go", "done"]);
    }

    #[test]
    fn a_missing_program_is_not_found() {
        let command = Command::new("/nonexistent/nix");
        let result = run(command, Limits::default(), &mut |_| Control::Continue);
        assert!(matches!(result, Err(RunError::NotFound)));
    }

    #[test]
    fn the_memory_limit_applies() {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "ulimit -v"]);
        let finished = run(
            command,
            Limits {
                timeout: None,
                memory_bytes: Some(512 * 1024 * 1024),
            },
            &mut |_| Control::Continue,
        )
        .expect("sh runs");
        assert_eq!(String::from_utf8_lossy(&finished.stdout).trim(), "524288");
    }
}
