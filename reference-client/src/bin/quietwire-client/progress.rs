//! Progress of long steps (backup export, import, re-keying, transfers) on standard error: a
//! bar redrawn in place on a terminal, and a few plain lines otherwise (a pipe or a log),
//! so that output stays bounded whatever the size.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

/// How often a terminal bar is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);
/// Width of the bar in characters.
const WIDTH: u64 = 30;

/// One progress display.
#[derive(Debug)]
pub struct Progress {
    what: String,
    total: Option<u64>,
    done: u64,
    note: String,
    tty: bool,
    drawn: Option<Instant>,
    /// Quarters already reported on a non-terminal.
    quarters: u64,
    finished: bool,
}

impl Progress {
    /// Progress of `what` over `total` bytes (`None`: unknown, only the count is shown).
    pub fn new(what: impl Into<String>, total: Option<u64>) -> Progress {
        Progress {
            what: what.into(),
            total: total.filter(|t| *t > 0),
            done: 0,
            note: String::new(),
            tty: std::io::stderr().is_terminal(),
            drawn: None,
            quarters: 0,
            finished: false,
        }
    }

    /// Sets the bytes done so far.
    pub fn set(&mut self, done: u64) {
        self.done = self.total.map_or(done, |t| done.min(t));
        self.show(false);
    }

    /// Adds `n` bytes done.
    pub fn add(&mut self, n: u64) {
        self.set(self.done.saturating_add(n));
    }

    /// Shows what is being worked on (a section name) next to the bar.
    pub fn note(&mut self, note: &str) {
        note.clone_into(&mut self.note);
        self.show(false);
    }

    /// The last state, and a new line on a terminal.
    pub fn finish(&mut self) {
        if let Some(total) = self.total {
            self.done = total;
        }
        self.note.clear();
        self.show(true);
        if self.tty {
            eprintln!();
        }
        self.finished = true;
    }

    fn show(&mut self, last: bool) {
        if self.tty {
            let due = self.drawn.is_none_or(|at| at.elapsed() >= REDRAW);
            if due || last {
                self.drawn = Some(Instant::now());
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K{}", self.line());
                let _ = err.flush();
            }
            return;
        }
        // Not a terminal: the start, each quarter, and the end, one line each.
        let quarter = match self.total {
            Some(total) => self.done.saturating_mul(4) / total,
            None => 0,
        };
        let first = self.drawn.is_none() && self.total.is_some();
        if first || (quarter > self.quarters && quarter < 4) || last {
            self.drawn = Some(Instant::now());
            self.quarters = self.quarters.max(quarter);
            eprintln!("{}", self.line());
        }
    }

    fn line(&self) -> String {
        let note = if self.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.note)
        };
        match self.total {
            Some(total) => {
                let filled = self.done.saturating_mul(WIDTH) / total;
                let bar: String = (0..WIDTH)
                    .map(|i| if i < filled { '#' } else { '.' })
                    .collect();
                format!(
                    "{}: [{bar}] {:>3}% {} of {}{note}",
                    self.what,
                    self.done.saturating_mul(100) / total,
                    size(self.done),
                    size(total)
                )
            }
            None => format!("{}: {}{note}", self.what, size(self.done)),
        }
    }
}

impl Drop for Progress {
    /// An interrupted bar ends its line, so that the error message after it stands alone.
    fn drop(&mut self) {
        if self.tty && self.drawn.is_some() && !self.finished {
            eprintln!();
        }
    }
}

/// A byte count for people: `812 B`, `14.2 KiB`, `1.5 MiB`.
pub fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes < KIB {
        format!("{bytes} B")
    } else if bytes < MIB {
        format!("{}.{} KiB", bytes / KIB, bytes % KIB * 10 / KIB)
    } else {
        format!("{}.{} MiB", bytes / MIB, bytes % MIB * 10 / MIB)
    }
}

/// The engine reports backup progress to the bar.
impl quietwire_client::backup::Progress for Progress {
    fn set(&mut self, done: u64) {
        Progress::set(self, done);
    }

    fn add(&mut self, n: u64) {
        Progress::add(self, n);
    }

    fn note(&mut self, what: &str) {
        Progress::note(self, what);
    }

    fn finish(&mut self) {
        Progress::finish(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_lines() {
        assert_eq!(size(812), "812 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(3 * 1024 * 1024 + 512 * 1024), "3.5 MiB");
        let mut p = Progress::new("import", Some(200));
        p.tty = false;
        p.done = 100;
        assert_eq!(
            p.line(),
            "import: [###############...............]  50% 100 B of 200 B"
        );
        p.note("contacts");
        assert!(p.line().ends_with("(contacts)"));
        let unknown = Progress::new("export", None);
        assert_eq!(unknown.line(), "export: 0 B");
    }
}
