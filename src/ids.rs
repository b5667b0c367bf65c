//! Identifiers the gateway assigns: payment ids in the MPP style and stable notification ids.

use chrono::Utc;

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // The system RNG does not fail on the platforms the gateway runs on; should it, the id
    // still carries its timestamp.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    u64::from_be_bytes(bytes)
}

/// A payment id like the wallets assign: a timestamp and 18 random digits.
pub fn payment_id() -> String {
    format!(
        "{}{:018}",
        Utc::now().format("%Y%m%d%H%M%S"),
        random_u64() % 10u64.pow(18)
    )
}

/// A notification id, stable across every attempt of one notification, so merchants can
/// deduplicate: `ntf_` and 24 hex digits.
pub fn notification_id() -> String {
    format!("ntf_{:016x}{:08x}", random_u64(), random_u64() as u32)
}
