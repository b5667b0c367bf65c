//! The command line: `serve`, `check-config`, `migrate`, `keygen`, `sign`, `verify`,
//! `conform notify`, `conform inquiry`, `recordings export`, `recordings import`, `drift`.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::conform::{self, Report};
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
    /// Play Alipay+ against your own endpoints and report, case by case, what they get wrong.
    Conform(Box<ConformArgs>),
    /// Real mode: export or import the recorded pairs of the configured store, as JSON lines.
    Recordings(RecordingsArgs),
    /// Real mode: send every recorded request to the mock and report, field by field, where
    /// the mock's answer differs from the real one.
    Drift(DriftArgs),
}

/// `drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The mock to compare: its config (scenario rules and all); its store is not touched.
    #[command(flatten)]
    pub config: ConfigArg,
    /// The recordings, as `recordings export` writes them (JSON lines).
    #[arg(long, value_name = "FILE")]
    pub recordings: PathBuf,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// `recordings`.
#[derive(Debug, Args)]
pub struct RecordingsArgs {
    /// Export or import.
    #[command(subcommand)]
    pub action: RecordingsAction,
}

/// What `recordings` does.
#[derive(Debug, Subcommand)]
pub enum RecordingsAction {
    /// Write the store's recordings as JSON lines, oldest first.
    Export(RecordingsExportArgs),
    /// Add recordings from a JSON lines file to the store (each gets a new id).
    Import(RecordingsImportArgs),
}

/// `recordings export`.
#[derive(Debug, Args)]
pub struct RecordingsExportArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only this API.
    #[arg(long)]
    pub api: Option<String>,
    /// Only the recordings the upstream's answer was accepted for (the replayable ones).
    #[arg(long)]
    pub valid_only: bool,
}

/// `recordings import`.
#[derive(Debug, Args)]
pub struct RecordingsImportArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The JSON lines file, or - for standard input.
    pub file: String,
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

/// `conform`.
#[derive(Debug, Args)]
pub struct ConformArgs {
    /// Which of your endpoints to test.
    #[command(subcommand)]
    pub target: ConformTarget,
}

/// The endpoints `conform` tests.
#[derive(Debug, Subcommand)]
pub enum ConformTarget {
    /// A merchant's payment result notification handler.
    Notify(ConformNotifyArgs),
    /// An MPP's inquiryPayment endpoint.
    Inquiry(ConformInquiryArgs),
}

/// What both `conform` subcommands take.
#[derive(Debug, Args)]
pub struct ConformCommon {
    /// The endpoint's URL; its path is what requests are signed over.
    #[arg(long, required_unless_present = "list")]
    pub url: Option<String>,
    /// The private key that signs as Alipay+ (the gateway's): a file (PEM or base64) or the key
    /// text itself.
    #[arg(long, required_unless_present = "list")]
    pub key: Option<String>,
    /// The client id requests carry: the merchant's (notify) or Alipay+'s at the MPP (inquiry).
    #[arg(long, required_unless_present = "list")]
    pub client_id: Option<String>,
    /// keyVersion to name in the signature header.
    #[arg(long, default_value = "1")]
    pub key_version: String,
    /// How long each request waits for its answer (the sender's notify.timeout_ms default).
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Run only these cases: ids separated by commas, `prefix*` for several.
    #[arg(long)]
    pub cases: Option<String>,
    /// Print the matrix of cases and exit.
    #[arg(long)]
    pub list: bool,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// `conform notify`.
#[derive(Debug, Args)]
pub struct ConformNotifyArgs {
    #[command(flatten)]
    pub common: ConformCommon,
    /// The merchant's public key: acknowledgements must be signed with it (case ack-signed;
    /// skipped without).
    #[arg(long)]
    pub merchant_public_key: Option<String>,
    /// The payment the success notification reports (one your handler knows); default: a new id.
    #[arg(long)]
    pub payment_request_id: Option<String>,
    /// The payment the failure notification reports; default: a new id.
    #[arg(long)]
    pub failed_payment_request_id: Option<String>,
    /// paymentAmount.currency of the notifications.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// paymentAmount.value of the notifications, in minor units.
    #[arg(long, default_value = "1000")]
    pub amount: String,
    /// After S, GET this URL (`{paymentRequestId}` replaced, else added as a query parameter):
    /// 2xx means the result was stored (case stored-before-ack).
    #[arg(long, conflicts_with = "state_command")]
    pub state_url: Option<String>,
    /// After S, run this shell command with CONFORM_PAYMENT_REQUEST_ID and
    /// CONFORM_RESULT_STATUS set: exit 0 means the result was stored.
    #[arg(long)]
    pub state_command: Option<String>,
}

/// `conform inquiry`.
#[derive(Debug, Args)]
pub struct ConformInquiryArgs {
    #[command(flatten)]
    pub common: ConformCommon,
    /// The MPP's public key: every answer must be signed with it.
    #[arg(long)]
    pub mpp_public_key: Option<String>,
    /// A payment the MPP knows, inquired by case known-payment; repeat for several.
    #[arg(long)]
    pub payment_request_id: Vec<String>,
    /// acquirerId of the inquiries.
    #[arg(long, default_value = "1022188000000000001")]
    pub acquirer_id: String,
    /// pspId of the inquiries.
    #[arg(long, default_value = "1022172000000000001")]
    pub psp_id: String,
}

/// A CLI failure, printed as it is.
// A String on purpose: this is the boundary. Each command's error is the final line
// `alipay-gateway: <message>` that main prints before exiting 1, worded where it happens.
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

/// `recordings export` / `recordings import`, against the store the config names.
pub fn recordings(args: &RecordingsArgs) -> CliResult {
    let config_arg = match &args.action {
        RecordingsAction::Export(a) => &a.config,
        RecordingsAction::Import(a) => &a.config,
    };
    let config = Config::load(config_arg.config.as_deref())
        .map_err(|e| format!("invalid configuration: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let store = crate::store::connect(&config.settings.store)
            .await
            .map_err(|e| format!("cannot open the store: {e}"))?;
        match &args.action {
            RecordingsAction::Export(a) => export_recordings(store.as_ref(), a).await,
            RecordingsAction::Import(a) => import_recordings(store.as_ref(), a).await,
        }
    })
}

async fn export_recordings(
    store: &dyn crate::store::Store,
    args: &RecordingsExportArgs,
) -> CliResult {
    let filter = crate::store::RecordingFilter {
        api: args.api.clone().unwrap_or_default(),
        verdict: if args.valid_only {
            crate::domain::recording::VALID.to_owned()
        } else {
            String::new()
        },
        limit: Some(crate::store::MAX_LISTED),
        ..crate::store::RecordingFilter::default()
    };
    let mut found = store
        .recordings(&filter)
        .await
        .map_err(|e| format!("cannot read the recordings: {e}"))?;
    found.reverse();
    let mut text = String::new();
    for recording in &found {
        text.push_str(&serde_json::to_string(recording).map_err(|e| e.to_string())?);
        text.push('\n');
    }
    match &args.out {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "exported {} recording(s) to {}",
                found.len(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// `drift`: prints the table, writes the JUnit file, and fails when a recording drifts.
pub fn drift(args: &DriftArgs) -> CliResult {
    let config = Config::load(args.config.config.as_deref())
        .map_err(|e| format!("invalid configuration: {e}"))?;
    let text = std::fs::read_to_string(&args.recordings)
        .map_err(|e| format!("cannot read {}: {e}", args.recordings.display()))?;
    let recordings = parse_recordings(&text, &args.recordings.display().to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let report = runtime
        .block_on(crate::api::drift::run(config, &recordings))
        .map_err(|e| e.to_string())?;
    print!("{}", report.table());
    if let Some(path) = &args.junit {
        std::fs::write(path, report.junit())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    match report.drifting() {
        0 => Ok(()),
        n => Err(format!(
            "the mock drifts from the real service on {n} recording(s)"
        )),
    }
}

/// Recordings from JSON lines; `source` names the file in errors.
fn parse_recordings(text: &str, source: &str) -> Result<Vec<crate::store::Recording>, String> {
    let mut parsed = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let recording = serde_json::from_str(line)
            .map_err(|e| format!("{source} line {}: not a recording: {e}", i + 1))?;
        parsed.push(recording);
    }
    Ok(parsed)
}

async fn import_recordings(
    store: &dyn crate::store::Store,
    args: &RecordingsImportArgs,
) -> CliResult {
    let bytes = read_body(&args.file)?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8", args.file))?;
    let parsed = parse_recordings(&text, &args.file)?;
    for recording in &parsed {
        store
            .record_exchange(recording.clone())
            .await
            .map_err(|e| format!("cannot store a recording: {e}"))?;
    }
    println!("imported {} recording(s)", parsed.len());
    Ok(())
}

/// `conform notify` / `conform inquiry`: runs the matrix, prints the table, writes the files,
/// and fails when a case failed.
pub fn conform(args: &ConformArgs) -> CliResult {
    let (suite, all, common) = match &args.target {
        ConformTarget::Notify(a) => ("notify", conform::NOTIFY_CASES, &a.common),
        ConformTarget::Inquiry(a) => ("inquiry", conform::INQUIRY_CASES, &a.common),
    };
    let cases = conform::cases::select(all, common.cases.as_deref()).map_err(|e| e.to_string())?;
    if common.list {
        let listed: Vec<conform::CaseDef> = cases.into_iter().copied().collect();
        print!("{}", conform::report::matrix(suite, &listed));
        return Ok(());
    }
    let required = |value: &Option<String>, flag: &str| {
        value.clone().ok_or_else(|| format!("{flag} is required"))
    };
    let url = required(&common.url, "--url")?;
    let key = SigningKey::from_text(&key_text(&required(&common.key, "--key")?)?)
        .map_err(|e| format!("--key: {e}"))?;
    let client_id = required(&common.client_id, "--client-id")?;
    let timeout = std::time::Duration::from_millis(common.timeout_ms);
    let public_key = |arg: &Option<String>, flag: &str| -> Result<Option<VerifyingKey>, String> {
        arg.as_deref()
            .map(|text| {
                VerifyingKey::from_text(&key_text(text)?).map_err(|e| format!("{flag}: {e}"))
            })
            .transpose()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let mut progress = progress_line();
    let started = std::time::Instant::now();
    let outcomes = match &args.target {
        ConformTarget::Notify(a) => {
            let amount = crate::protocol::Amount::new(&a.currency, &a.amount);
            crate::protocol::amount::check_currency(&amount.currency)
                .map_err(|e| format!("--currency: {e}"))?;
            crate::protocol::amount::check_value(&amount.value)
                .map_err(|e| format!("--amount: {e}"))?;
            let stamp = chrono::Utc::now().timestamp_millis();
            let options = conform::notify::NotifyOptions {
                url: url.clone(),
                key: std::sync::Arc::new(key),
                key_version: common.key_version.clone(),
                client_id,
                merchant_key: public_key(&a.merchant_public_key, "--merchant-public-key")?,
                timeout,
                payment_request_id: a
                    .payment_request_id
                    .clone()
                    .unwrap_or_else(|| format!("conform-{stamp}-success")),
                failed_payment_request_id: a
                    .failed_payment_request_id
                    .clone()
                    .unwrap_or_else(|| format!("conform-{stamp}-failure")),
                amount,
                state: match (&a.state_url, &a.state_command) {
                    (Some(url), _) => Some(conform::notify::StateCheck::Url(url.clone())),
                    (None, Some(command)) => {
                        Some(conform::notify::StateCheck::Command(command.clone()))
                    }
                    (None, None) => None,
                },
            };
            runtime
                .block_on(conform::notify::run(&options, &cases, &mut progress))
                .map_err(|e| e.to_string())?
        }
        ConformTarget::Inquiry(a) => {
            let options = conform::inquiry::InquiryOptions {
                url: url.clone(),
                key,
                key_version: common.key_version.clone(),
                client_id,
                mpp_key: public_key(&a.mpp_public_key, "--mpp-public-key")?,
                timeout,
                payment_request_ids: a.payment_request_id.clone(),
                acquirer_id: a.acquirer_id.clone(),
                psp_id: a.psp_id.clone(),
            };
            runtime
                .block_on(conform::inquiry::run(&options, &cases, &mut progress))
                .map_err(|e| e.to_string())?
        }
    };
    progress(0, 0, "");
    let report = Report {
        suite,
        target: url,
        outcomes,
        elapsed: started.elapsed(),
    };
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    print!("{}", report.table(colour));
    if let Some(path) = &common.junit {
        std::fs::write(path, report.junit())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if let Some(path) = &common.markdown {
        std::fs::write(path, report.markdown())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    match report.counts().fail {
        0 => Ok(()),
        failed => Err(format!(
            "conform {suite}: {failed} of {} cases failed",
            report.outcomes.len()
        )),
    }
}

/// The progress line on standard error: redrawn in place on a terminal, a line per case
/// otherwise. Called with a total of 0 when the run is over.
fn progress_line() -> impl FnMut(usize, usize, &str) {
    let terminal = std::io::stderr().is_terminal();
    move |done, total, id| {
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = match (total, terminal) {
            (0, true) => write!(err, "\r\x1b[2K"),
            (0, false) => Ok(()),
            (_, true) => write!(err, "\r\x1b[2K[{done}/{total}] {id}"),
            (_, false) => writeln!(err, "conform: [{done}/{total}] {id}"),
        };
        let _ = err.flush();
    }
}
