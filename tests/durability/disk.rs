//! A full disk: writes answer UNKNOWN_EXCEPTION at once, nothing acknowledged is lost, and the
//! gateway takes writes again by itself when space returns.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::support::bodies::success_report;
use crate::support::config::gateway_config;
use crate::support::gateway_process::Gateway;
use crate::support::skip;

/// A small tmpfs of its own, so a test can fill a disk; unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` (`4m`); `Err` says why it cannot (mounting needs root).
    fn mount(size: &str) -> Result<SmallDisk, String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "alipay-gateway-small-disk-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !mounted.status.success() {
            let _ = std::fs::remove_dir(&path);
            return Err(format!(
                "mounting a tmpfs failed (it needs root): {}",
                String::from_utf8_lossy(&mounted.stderr).trim()
            ));
        }
        Ok(SmallDisk { path })
    }

    /// Writes a file that takes every free byte left; answers its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).expect("the filler file");
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
        let _ = std::fs::remove_dir(&self.path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_unknown_exception_at_once_loses_nothing_acknowledged_and_recovers_when_space_returns()
 {
    let test = "a_full_disk_answers_unknown_exception_at_once_loses_nothing_acknowledged_and_recovers_when_space_returns";
    let disk = match SmallDisk::mount("8m") {
        Ok(disk) => disk,
        Err(why) => return skip::skipped(test, &why),
    };
    let config_dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}/gateway.db", disk.path.display());
    let config = gateway_config(config_dir.path(), &store, 1000);
    let mut gateway = Gateway::start(&config);
    let caller = gateway.caller();
    assert!(
        caller
            .push(&success_report("P-FULL-0", "R-FULL-0"))
            .await
            .is("S", "SUCCESS")
    );
    let mut acknowledged = vec![0];

    // Act 1: the disk fills; pushes go on until the store cannot take one.
    let filler = disk.fill();
    let mut refused = None;
    for i in 1..=5000 {
        let report = success_report(&format!("P-FULL-{i}"), &format!("R-FULL-{i}"));
        let started = Instant::now();
        let reply = caller.push(&report).await;
        if reply.is("S", "SUCCESS") {
            acknowledged.push(i);
            continue;
        }
        refused = Some((reply, started.elapsed()));
        break;
    }
    let (reply, took) = refused.expect("5000 pushes fitted on a full disk");
    assert!(
        reply.is("U", "UNKNOWN_EXCEPTION"),
        "on a full disk: {reply:?}"
    );
    assert!(took < Duration::from_secs(5), "the refusal took {took:?}");

    // Act 2: space returns; the gateway takes writes again by itself.
    std::fs::remove_file(&filler).unwrap();
    let started = Instant::now();
    let back = loop {
        let i = 10_000 + acknowledged.len();
        let report = success_report(&format!("P-FULL-{i}"), &format!("R-FULL-{i}"));
        if caller.push(&report).await.is("S", "SUCCESS") {
            acknowledged.push(i);
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "space is back, yet the gateway still refuses writes:\n{}",
            gateway
                .logs()
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Assert: after kill -9 and a restart, every acknowledged push is there.
    gateway.kill_9();
    let gateway = Gateway::start(&config);
    let caller = gateway.caller();
    let mut lost = Vec::new();
    for i in &acknowledged {
        if !caller
            .inquire(&format!("R-FULL-{i}"))
            .await
            .paid_as(&format!("P-FULL-{i}"))
        {
            lost.push(*i);
        }
    }
    assert!(
        lost.is_empty(),
        "acknowledged before the disk filled, lost: {lost:?}"
    );
    println!(
        "full disk: {} pushes acknowledged, the next refused in {took:?}; writes back {back:?} after space returned",
        acknowledged.len()
    );
}
