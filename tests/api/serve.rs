//! The README's run command on a fresh folder: `cairn serve` with no configuration starts its own
//! PostgreSQL, applies migrations and answers; it stops that PostgreSQL when it is stopped.

use std::time::{Duration, Instant};

#[tokio::test]
async fn cairn_serve_runs_with_nothing_configured() {
    let dir = std::env::temp_dir().join(format!(
        "cairn-serve-{}",
        shared::crypto::random_alphanumeric(8)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = shared::localpg::free_port().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("serve")
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env_remove("CAIRN_SECRET_KEY")
        .env_remove("GITHUB_CLIENT_ID")
        .env("CAIRN_ADDR", format!("127.0.0.1:{port}"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(90);
    let mut healthy = false;
    while Instant::now() < deadline && !healthy {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out).await;
            healthy = out.starts_with("HTTP/1.1 200");
        }
    }
    let login = if healthy {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        s.write_all(b"GET /v1/auth/github/login HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out).await;
        out
    } else {
        String::new()
    };
    // SIGTERM: cairn stops its PostgreSQL on the way out.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("cairn exits")
        .unwrap();
    let mut err = String::new();
    use tokio::io::AsyncReadExt;
    let _ = child.stderr.take().unwrap().read_to_string(&mut err).await;

    assert!(healthy, "cairn serve answered /healthz: {err}");
    assert!(err.contains("DATABASE_URL is unset"), "{err}");
    assert!(
        login.contains("503") && login.contains("github_not_configured"),
        "{login}"
    );
    assert!(status.success(), "{err}");
    assert!(dir.join(".cairn/secret.key").exists());
    assert!(
        !dir.join(".cairn/pg/postmaster.pid").exists(),
        "the local PostgreSQL was stopped"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
