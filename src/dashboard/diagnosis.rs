//! A failed signature, explained for people: which mistake the gateway's diagnosis names, and
//! the content the client most likely signed, to set beside the content the gateway verified.
//! Pure; it reads only what the journal entry already shows (the verdict and the string
//! verified), never a key.

/// The mistakes the diagnosis of `signature::diagnose` tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mistake {
    /// Another private key signed the right content.
    WrongKey,
    /// The request was signed for the other path form (with or without `/ams/sandbox`).
    SandboxPath,
    /// The body gained or lost a trailing newline after signing.
    TrailingNewline,
    /// The body's line ends changed (`\r\n` against `\n`).
    LineEndings,
    /// The content changed in some other way: body, path, Client-Id or Request-Time.
    ContentChanged,
    /// The signature could not be read at all: missing, malformed, bad encoding, algorithm.
    Unreadable,
}

impl Mistake {
    /// A heading for the dashboard.
    pub fn title(self) -> &'static str {
        match self {
            Mistake::WrongKey => "Wrong key",
            Mistake::SandboxPath => "Sandbox path",
            Mistake::TrailingNewline => "Trailing newline",
            Mistake::LineEndings => "Line endings",
            Mistake::ContentChanged => "Content changed",
            Mistake::Unreadable => "Unreadable signature",
        }
    }

    /// What to do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Mistake::WrongKey => {
                "The content is what the client signed, but not with the private key whose public key is registered for this keyVersion: check which key the client loads, or register its public key."
            }
            Mistake::SandboxPath => {
                "The client signed the other form of the path. SDKs rewrite /ams/api to /ams/sandbox/api for SANDBOX_ clients: sign the path the request is sent to."
            }
            Mistake::TrailingNewline => {
                "The body sent and the body signed differ only in a final newline: sign the exact bytes that are sent."
            }
            Mistake::LineEndings => {
                "The body's line ends changed between signing and sending (\\r\\n against \\n): sign the exact bytes that are sent."
            }
            Mistake::ContentChanged => {
                "The right key signed other content: the body, path, Client-Id or Request-Time changed after signing (a re-serialised body is the usual cause)."
            }
            Mistake::Unreadable => {
                "The Signature header could not be read: send algorithm=RSA256,keyVersion=N,signature=<URL-encoded base64>."
            }
        }
    }
}

/// What the dashboard shows of a refused signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The mistake named.
    pub mistake: Mistake,
    /// What the client probably signed, when the diagnosis tells (else `None`: the same
    /// content, or unknown).
    pub probably_signed: Option<String>,
}

/// Reads the diagnosis out of a journal verdict (`signature invalid: ...`) and rebuilds what
/// the client probably signed from `verified`, the content the gateway checked. `None` when the
/// verdict is not a signature failure.
pub fn diagnose(verdict: &str, verified: Option<&str>) -> Option<Diagnosis> {
    let reason = verdict.strip_prefix("signature invalid: ")?;
    let mistake = if reason.starts_with("signed with a different key") {
        Mistake::WrongKey
    } else if reason.contains("the signature was made for path") {
        Mistake::SandboxPath
    } else if reason.contains("trailing newline") {
        Mistake::TrailingNewline
    } else if reason.contains("line endings") {
        Mistake::LineEndings
    } else if reason.starts_with("the signed content differs") {
        Mistake::ContentChanged
    } else {
        Mistake::Unreadable
    };
    let probably_signed = verified.and_then(|content| match mistake {
        Mistake::SandboxPath => signed_path(reason).map(|path| with_path(content, path)),
        Mistake::TrailingNewline => Some(match content.strip_suffix('\n') {
            Some(without) => without.strip_suffix('\r').unwrap_or(without).to_owned(),
            None => format!("{content}\n"),
        }),
        Mistake::LineEndings => Some(if content.contains("\r\n") {
            content.replace("\r\n", "\n")
        } else {
            // The first line (method and path) is the gateway's own; only the rest changed.
            match content.split_once('\n') {
                Some((first, rest)) => format!("{first}\n{}", rest.replace('\n', "\r\n")),
                None => content.to_owned(),
            }
        }),
        Mistake::WrongKey => Some(content.to_owned()),
        Mistake::ContentChanged | Mistake::Unreadable => None,
    });
    Some(Diagnosis {
        mistake,
        probably_signed,
    })
}

/// The path named in "the signature was made for path X, but ...".
fn signed_path(reason: &str) -> Option<&str> {
    let after = reason.split("the signature was made for path ").nth(1)?;
    after.split(", but").next()
}

/// `content` with the path of its first line (`POST <path>`) replaced.
fn with_path(content: &str, path: &str) -> String {
    match content.split_once('\n') {
        Some((_, rest)) => format!("POST {path}\n{rest}"),
        None => content.to_owned(),
    }
}

/// Text with its invisible characters shown, so two contents that differ only in them can be
/// told apart side by side: `\r` as `␍`, `\n` as `↵` (before the line break itself).
pub fn visible(text: &str) -> String {
    text.replace('\r', "␍").replace('\n', "↵\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIED: &str = "POST /ams/sandbox/api/v1/x\nC.1700000000000.{\"a\":1}";

    #[test]
    fn a_sandbox_path_diagnosis_rebuilds_the_content_signed_for_the_other_path() {
        let verdict = "signature invalid: the signed content differs from what was received \
                       (the signature was made for path /ams/api/v1/x, but the request arrived at /ams/sandbox/api/v1/x)";

        let d = diagnose(verdict, Some(VERIFIED)).unwrap();

        assert_eq!(d.mistake, Mistake::SandboxPath);
        assert_eq!(
            d.probably_signed.as_deref(),
            Some("POST /ams/api/v1/x\nC.1700000000000.{\"a\":1}")
        );
    }

    #[test]
    fn a_trailing_newline_diagnosis_adds_or_removes_the_newline() {
        let verdict = "signature invalid: the signed content differs from what was received \
                       (the body differs only in a trailing newline)";

        let added = diagnose(verdict, Some(VERIFIED)).unwrap();
        let removed = diagnose(verdict, Some(&format!("{VERIFIED}\n"))).unwrap();

        assert_eq!(added.mistake, Mistake::TrailingNewline);
        assert_eq!(added.probably_signed, Some(format!("{VERIFIED}\n")));
        assert_eq!(removed.probably_signed.as_deref(), Some(VERIFIED));
    }

    #[test]
    fn a_wrong_key_was_used_over_the_same_content_and_other_verdicts_are_not_signature_failures() {
        let verdict = "signature invalid: signed with a different key than the public key registered for keyVersion 1";

        let d = diagnose(verdict, Some(VERIFIED)).unwrap();

        assert_eq!(d.mistake, Mistake::WrongKey);
        assert_eq!(d.probably_signed.as_deref(), Some(VERIFIED));
        assert_eq!(diagnose("valid", None), None);
        assert_eq!(
            diagnose("signature invalid: the Signature header is missing", None)
                .unwrap()
                .mistake,
            Mistake::Unreadable
        );
    }

    #[test]
    fn invisible_characters_are_shown() {
        assert_eq!(visible("a\r\nb\n"), "a␍↵\nb↵\n");
    }
}
