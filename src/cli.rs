//! The command line: `serve`, `check-config`, `migrate`, `keygen`, `sign`, `verify`.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::signature::{self, Message, SignatureHeader, SigningKey, VerifyingKey, header, keys};

/// A stand-in for the Alipay+ / Antom endpoints.
#[derive(Debug, Parser)]
#[command(name = "alipay-gateway", version, about)]
pub struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "GATEWAY_LOG_FORMAT_JSON")]
    pub log_json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve(ConfigArg),
    /// Validate a configuration without serving.
    CheckConfig(ConfigArg),
    /// Apply the store's migrations and exit (serve applies them too).
    Migrate(ConfigArg),
    /// Generate an RSA-2048 key pair in both formats.
    Keygen(KeygenArgs),
    /// Sign a request body and print the three headers for curl.
    Sign(SignArgs),
    /// Verify a signed message and say what differs.
    Verify(VerifyArgs),
}

/// `--config FILE`.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// TOML config laid over the built-in defaults.
    #[arg(long, short, env = "GATEWAY_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write private.pem, private.b64, public.pem and public.b64 into this directory instead of
    /// printing them.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace key files already in the --out directory (refused otherwise: a key pair that
    /// clients are registered with would be lost).
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// `sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Private key: a file (PEM or base64 PKCS#8/PKCS#1) or the key text itself.
    #[arg(long)]
    pub key: String,
    /// Client-Id to sign as.
    #[arg(long)]
    pub client_id: String,
    /// Request path, e.g. /aps/api/v1/payments/inquiryPayment, or the URL the request goes to
    /// (its path and query are what is signed).
    #[arg(long)]
    pub path: String,
    /// Request-Time to use; default: now, in epoch milliseconds.
    #[arg(long)]
    pub time: Option<String>,
    /// keyVersion to name in the header.
    #[arg(long, default_value = "1")]
    pub key_version: String,
    /// Body file, or - for standard input. The exact bytes are signed.
    #[arg(long, default_value = "-")]
    pub body: String,
}

/// `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Public key: a file (PEM or base64 SPKI/PKCS#1) or the key text itself.
    #[arg(long)]
    pub key: String,
    /// Client-Id that was signed.
    #[arg(long)]
    pub client_id: String,
    /// Path that was signed, or the URL whose path and query were.
    #[arg(long)]
    pub path: String,
    /// Request-Time or Response-Time that was signed.
    #[arg(long)]
    pub time: String,
    /// The Signature header value (or just the signature).
    #[arg(long)]
    pub signature: String,
    /// Body file, or - for standard input.
    #[arg(long, default_value = "-")]
    pub body: String,
}

/// A CLI failure, printed as it is.
pub type CliResult = Result<(), String>;

/// Reads a key argument: a file's content if it names a file, else the text itself.
fn key_text(arg: &str) -> Result<String, String> {
    let path = Path::new(arg);
    if arg.len() < 4096 && path.is_file() {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {arg}: {e}"))
    } else {
        Ok(arg.to_owned())
    }
}

/// The path a `--path` argument means: a path as it is, or a URL's path and query (the
/// signature covers no scheme or host, so signing a whole URL could never verify).
fn signed_path(arg: &str) -> Result<String, String> {
    if arg.starts_with('/') {
        return Ok(arg.to_owned());
    }
    match reqwest::Url::parse(arg) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }),
        _ => Err(format!(
            "--path: {arg:?} is neither a request path (e.g. /aps/api/v1/payments/inquiryPayment) \
             nor an http(s) URL"
        )),
    }
}

fn read_body(arg: &str) -> Result<Vec<u8>, String> {
    if arg == "-" {
        let mut body = Vec::new();
        std::io::stdin()
            .read_to_end(&mut body)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(body)
    } else {
        std::fs::read(arg).map_err(|e| format!("cannot read body file {arg}: {e}"))
    }
}

/// `check-config`: loads and validates, warns of `GATEWAY_*` variables that are no setting,
/// prints a summary and every client with its notify URL and APIs.
pub fn check_config(args: &ConfigArg) -> CliResult {
    // Before loading: a variable that is no setting may be why the load fails.
    for warning in crate::config::unrecognised_env(std::env::vars()) {
        eprintln!("warning: {warning}");
    }
    let config =
        Config::load(args.config.as_deref()).map_err(|e| format!("invalid configuration: {e}"))?;
    println!(
        "configuration ok: listen {}, store {}, {} client(s), admin API {}",
        config.listen,
        crate::store::redact_url(&config.settings.store.url),
        config.clients.len(),
        if config.admin_token.is_some() {
            "on"
        } else {
            "off"
        }
    );
    for client in &config.settings.clients {
        let versions: Vec<&str> = client.public_keys.keys().map(String::as_str).collect();
        println!(
            "client {}: key version(s) {}; APIs: {}; notify_url: {}; rate limit: {}",
            client.client_id,
            versions.join(", "),
            client
                .endpoints
                .as_ref()
                .map_or_else(|| "all".to_owned(), |e| e.join(", ")),
            client
                .notify_url
                .as_deref()
                .unwrap_or("none (its payments are notified only when they name a notifyUrl)"),
            client
                .rate_limit_per_second
                .map_or_else(|| "none".to_owned(), |n| format!("{n}/s")),
        );
    }
    Ok(())
}

/// `keygen`.
pub fn keygen(args: &KeygenArgs) -> CliResult {
    let key = SigningKey::generate().map_err(|e| e.to_string())?;
    let private = key.pkcs8_der().map_err(|e| e.to_string())?;
    let public = key.public_spki_der().map_err(|e| e.to_string())?;
    let files = [
        ("private.pem", keys::to_pem("PRIVATE KEY", &private)),
        ("private.b64", keys::to_base64(&private) + "\n"),
        ("public.pem", keys::to_pem("PUBLIC KEY", &public)),
        ("public.b64", keys::to_base64(&public) + "\n"),
    ];
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let existing: Vec<String> = files
                .iter()
                .map(|(name, _)| dir.join(name))
                .filter(|path| path.exists())
                .map(|path| path.display().to_string())
                .collect();
            if !existing.is_empty() && !args.force {
                return Err(format!(
                    "{} already exist{}; keygen keeps them (--force replaces them)",
                    existing.join(", "),
                    if existing.len() == 1 { "s" } else { "" }
                ));
            }
            for (name, content) in files {
                let path = dir.join(name);
                write_key_file(&path, &content, name.starts_with("private"))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                println!("wrote {}", path.display());
            }
        }
        None => {
            println!("# Private key, PKCS#8 base64 (\"Java format\", what Alipay+ tooling takes):");
            print!("{}", files[1].1);
            println!("# Public key, X.509 SubjectPublicKeyInfo base64:");
            print!("{}", files[3].1);
            print!("{}{}", files[0].1, files[2].1);
        }
    }
    Ok(())
}

/// Writes a key file; a private key is readable by its owner only (0600), made so before a
/// byte of it is written.
fn write_key_file(path: &Path, content: &str, private: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let mode = if private { 0o600 } else { 0o644 };
        options.mode(mode);
        let mut file = options.open(path)?;
        // An existing file (--force) keeps its old mode through open: set it.
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        file.write_all(content.as_bytes())
    }
    #[cfg(not(unix))]
    {
        let _ = private;
        options.open(path)?.write_all(content.as_bytes())
    }
}

/// `sign`: prints `Client-Id`, `Request-Time` and `Signature` header lines.
pub fn sign(args: &SignArgs) -> CliResult {
    let key = SigningKey::from_text(&key_text(&args.key)?).map_err(|e| format!("--key: {e}"))?;
    let body = read_body(&args.body)?;
    let time = args
        .time
        .clone()
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis().to_string());
    let path = signed_path(&args.path)?;
    let message = Message::post(&path, &args.client_id, &time, &body);
    let signature = signature::sign(&key, &message).map_err(|e| e.to_string())?;
    println!("Client-Id: {}", args.client_id);
    println!("Request-Time: {time}");
    println!(
        "Signature: {}",
        header::format(&args.key_version, &signature)
    );
    Ok(())
}

/// `verify`: says `valid`, or what differs.
pub fn verify(args: &VerifyArgs) -> CliResult {
    let key = VerifyingKey::from_text(&key_text(&args.key)?).map_err(|e| format!("--key: {e}"))?;
    let body = read_body(&args.body)?;
    let value = if args.signature.contains("signature=") {
        args.signature.clone()
    } else {
        format!("signature={}", args.signature)
    };
    let parsed = SignatureHeader::parse(&value).map_err(|e| e.to_string())?;
    let version = parsed.key_version.as_deref().unwrap_or("1").to_owned();
    let path = signed_path(&args.path)?;
    let message = Message::post(&path, &args.client_id, &args.time, &body);
    match signature::verify(&key, &version, &message, &parsed.signature) {
        Ok(()) => {
            println!("valid");
            Ok(())
        }
        Err(e) => Err(format!(
            "invalid: {e}\nverified against ({} bytes):\n{}",
            message.content().len(),
            String::from_utf8_lossy(&message.content())
        )),
    }
}
