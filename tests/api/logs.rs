//! Captures every log line of the test process at debug level, to check what reaches logs.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// The captured log text so far.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static CAPTURED: OnceLock<Captured> = OnceLock::new();

/// Installs (once) a global subscriber at debug level writing to memory.
pub fn capture() -> Captured {
    CAPTURED
        .get_or_init(|| {
            let c = Captured::default();
            let writer = c.clone();
            tracing_subscriber::fmt()
                .with_env_filter("debug")
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .init();
            c
        })
        .clone()
}
