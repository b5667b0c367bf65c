//! The report of a run: a table for the terminal (coloured when it is one), a JUnit XML file
//! and a Markdown summary for CI, and the matrix `--list` prints.

use std::fmt::Write as _;
use std::time::Duration;

use super::{CaseDef, Outcome, Verdict};
use crate::xml;

/// Widest `got` shown in the terminal table; the details below it and the files have it all.
const GOT_WIDTH: usize = 56;

/// A finished run.
#[derive(Debug, Clone)]
pub struct Report {
    /// `notify` or `inquiry`.
    pub suite: &'static str,
    /// The URL the cases went to.
    pub target: String,
    /// Every case, in the order run.
    pub outcomes: Vec<Outcome>,
    /// How long the run took.
    pub elapsed: Duration,
}

/// How many cases ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Warned.
    pub warn: usize,
    /// Failed.
    pub fail: usize,
    /// Skipped.
    pub skip: usize,
}

impl Report {
    /// The counts by verdict.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for outcome in &self.outcomes {
            match outcome.verdict {
                Verdict::Pass => counts.pass += 1,
                Verdict::Warn => counts.warn += 1,
                Verdict::Fail => counts.fail += 1,
                Verdict::Skip => counts.skip += 1,
            }
        }
        counts
    }

    /// `16 cases: 14 pass, 1 fail, 1 warn, 0 skip`.
    pub fn summary(&self) -> String {
        let c = self.counts();
        format!(
            "{} cases: {} pass, {} fail, {} warn, {} skip",
            self.outcomes.len(),
            c.pass,
            c.fail,
            c.warn,
            c.skip
        )
    }

    /// The terminal table, then the details of every case that did not pass, then the summary.
    pub fn table(&self, colour: bool) -> String {
        let id_width = self
            .outcomes
            .iter()
            .map(|o| o.id.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "conform {} {}\n\n{:<7} {:<id_width$}  {:<GOT_WIDTH$}  WHY",
            self.suite, self.target, "VERDICT", "CASE", "GOT"
        );
        for o in &self.outcomes {
            let _ = writeln!(
                out,
                "{} {:<id_width$}  {:<GOT_WIDTH$}  {}",
                paint(o.verdict, &format!("{:<7}", o.verdict.label()), colour),
                o.id,
                shorten(&o.got, GOT_WIDTH),
                o.why
            );
        }
        for o in self
            .outcomes
            .iter()
            .filter(|o| matches!(o.verdict, Verdict::Fail | Verdict::Warn))
        {
            let _ = write!(
                out,
                "\n{} {}\n  sent:     {}\n  expected: {}\n  got:      {}\n  why:      {}\n",
                paint(o.verdict, o.verdict.label(), colour),
                o.id,
                o.sent,
                o.expected,
                o.got,
                o.why
            );
        }
        let _ = writeln!(
            out,
            "\n{} ({:.1} s)",
            self.summary(),
            self.elapsed.as_secs_f64()
        );
        out
    }

    /// JUnit XML: one test suite, a test case per case; fail is a `<failure>`, skip a
    /// `<skipped>`, warn passes with the warning in `<system-out>`.
    pub fn junit(&self) -> String {
        let c = self.counts();
        let name = format!("conform {}", self.suite);
        let time = format!("{:.3}", self.elapsed.as_secs_f64());
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"alipay-gateway conform\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{time}\">",
            self.outcomes.len(),
            c.fail,
            c.skip
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{time}\">",
            xml::escape(&name),
            self.outcomes.len(),
            c.fail,
            c.skip
        );
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"url\" value=\"{}\"/>\n    </properties>",
            xml::escape(&self.target)
        );
        for o in &self.outcomes {
            let details = format!(
                "sent: {}\nexpected: {}\ngot: {}\nwhy: {}",
                o.sent, o.expected, o.got, o.why
            );
            let _ = writeln!(
                out,
                "    <testcase classname=\"conform.{}\" name=\"{}\" time=\"{:.3}\">",
                self.suite,
                xml::escape(&o.id),
                o.elapsed.as_secs_f64()
            );
            match o.verdict {
                Verdict::Fail => {
                    let _ = writeln!(
                        out,
                        "      <failure message=\"{}\" type=\"FAIL\">{}</failure>",
                        xml::escape(&o.why),
                        xml::escape(&details)
                    );
                }
                Verdict::Skip => {
                    let _ = writeln!(out, "      <skipped message=\"{}\"/>", xml::escape(&o.why));
                }
                Verdict::Pass | Verdict::Warn => {}
            }
            let _ = writeln!(
                out,
                "      <system-out>{}{}</system-out>\n    </testcase>",
                if o.verdict == Verdict::Warn {
                    "WARN: "
                } else {
                    ""
                },
                xml::escape(&details)
            );
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }

    /// A Markdown summary: a heading, the counts, and a table of every case.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "## alipay-gateway conform {}\n\n`{}`: **{}**\n\n",
            self.suite,
            self.target,
            self.summary()
        );
        out.push_str("| case | verdict | sent | expected | got | why |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for o in &self.outcomes {
            let verdict = match o.verdict {
                Verdict::Fail => "**FAIL**",
                other => other.label(),
            };
            let _ = writeln!(
                out,
                "| `{}` | {verdict} | {} | {} | {} | {} |",
                o.id,
                cell(&o.sent),
                cell(&o.expected),
                cell(&o.got),
                cell(&o.why)
            );
        }
        out
    }
}

/// The matrix, for `--list`.
pub fn matrix(suite: &str, cases: &[CaseDef]) -> String {
    let mut out = format!("conform {suite}: {} cases\n", cases.len());
    for case in cases {
        let _ = write!(
            out,
            "\n{}\n  sends:   {}\n  expects: {}\n  rule:    {}\n",
            case.id, case.sends, case.expects, case.rule
        );
    }
    out
}

fn paint(verdict: Verdict, text: &str, colour: bool) -> String {
    if !colour {
        return text.to_owned();
    }
    let code = match verdict {
        Verdict::Pass => "32",
        Verdict::Warn => "33",
        Verdict::Fail => "1;31",
        Verdict::Skip => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(width - 3).collect();
    short.push_str("...");
    short
}

/// Text for a Markdown table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let outcome = |id: &str, verdict, why: &str| Outcome {
            id: id.into(),
            sent: "a <notification> & more".into(),
            expected: "S".into(),
            got: "HTTP 200 | S".into(),
            verdict,
            why: why.into(),
            elapsed: Duration::from_millis(12),
        };
        Report {
            suite: "notify",
            target: "http://127.0.0.1:9/notify".into(),
            outcomes: vec![
                outcome("success", Verdict::Pass, "fine"),
                outcome("unsigned", Verdict::Fail, "accepted \"it\""),
                outcome("ack-signed", Verdict::Skip, "no key"),
                outcome("stale-request-time", Verdict::Warn, "replay"),
            ],
            elapsed: Duration::from_millis(100),
        }
    }

    #[test]
    fn junit_escapes_and_marks_failures_and_skips() {
        let xml = report().junit();
        assert!(
            xml.contains("tests=\"4\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"accepted &quot;it&quot;\""),
            "{xml}"
        );
        assert!(xml.contains("a &lt;notification&gt; &amp; more"), "{xml}");
        assert!(xml.contains("<skipped message=\"no key\"/>"), "{xml}");
        assert!(xml.contains("WARN: sent:"), "{xml}");
    }

    #[test]
    fn markdown_escapes_pipes_and_the_table_colours_only_when_asked() {
        let report = report();
        assert!(report.markdown().contains("HTTP 200 \\| S"));
        assert!(report.markdown().contains("| `unsigned` | **FAIL** |"));
        assert!(!report.table(false).contains('\x1b'));
        assert!(report.table(true).contains("\x1b[1;31mFAIL"));
        assert!(
            report
                .table(false)
                .contains("4 cases: 1 pass, 1 fail, 1 warn, 1 skip")
        );
    }
}
