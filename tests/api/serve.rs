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
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(".cairn/secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the secret key is private");
    }
    assert!(
        !dir.join(".cairn/pg/postmaster.pid").exists(),
        "the local PostgreSQL was stopped"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_local_postgresql_wants_its_password_over_tcp_and_opens_no_folder_above_it() {
    use sqlx::Connection;
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let root = std::env::temp_dir().join(format!(
        "cairn-localpg-{}",
        shared::crypto::random_alphanumeric(8)
    ));
    // A folder closed to other users above the cluster's, and one open to them.
    let closed = root.join("closed");
    let open = root.join("open");
    std::fs::create_dir_all(&closed).unwrap();
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o750)).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));

    let behind_closed = tokio::task::spawn_blocking({
        let d = closed.join("pg");
        move || shared::localpg::LocalPostgres::start(&d, shared::localpg::free_port().unwrap())
    })
    .await
    .unwrap();
    let port = shared::localpg::free_port().unwrap();
    let pg = tokio::task::spawn_blocking({
        let d = open.join("pg");
        move || shared::localpg::LocalPostgres::start(&d, port)
    })
    .await
    .unwrap()
    .expect("the cluster starts");
    let without_password =
        sqlx::PgConnection::connect(&format!("postgres://postgres@127.0.0.1:{port}/postgres"))
            .await;
    let wrong_password = sqlx::PgConnection::connect(&format!(
        "postgres://postgres:wrong@127.0.0.1:{port}/postgres"
    ))
    .await;
    let with_password = sqlx::PgConnection::connect(&pg.url("postgres")).await;
    let password_file = open.join("pg").join(shared::localpg::PASSWORD_FILE);
    let password_mode = mode(&password_file);
    pg.stop(true).unwrap();

    assert!(
        without_password.is_err(),
        "TCP without the password is refused"
    );
    assert!(
        wrong_password.is_err(),
        "TCP with a wrong password is refused"
    );
    with_password.expect("TCP with the password connects");
    assert_eq!(password_mode, 0o600);
    assert_eq!(
        mode(&closed),
        0o750,
        "no bits added to a folder above the cluster"
    );
    if as_root {
        // The server's user cannot reach the folder: an error that says so, nothing opened.
        let e = behind_closed.err().expect("refused").to_string();
        assert!(e.contains("cannot reach"), "{e}");
    } else if let Ok(pg) = behind_closed {
        pg.stop(true).unwrap();
    }
    let _ = std::fs::remove_dir_all(&root);
}
