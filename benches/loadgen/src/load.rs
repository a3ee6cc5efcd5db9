//! The HTTP load loop: `concurrency` workers, each on its own keep-alive connection, send
//! requests back to back until the deadline; latencies and statuses are recorded per request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// One request to send, and how many events it carries (0 for queries).
pub struct Req {
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
    pub events: u64,
}

/// Builds the `seq`-th request of worker `worker`.
pub type MakeReq = Arc<dyn Fn(usize, u64) -> Req + Send + Sync>;

/// What a load run measured.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub requests: u64,
    /// Events carried by requests answered 2xx (acknowledged).
    pub acked_events: u64,
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer (connection errors, timeouts).
    pub failed: u64,
    pub elapsed: Duration,
    /// Sorted latencies of answered requests, in microseconds.
    pub latencies_us: Vec<u32>,
}

impl Outcome {
    /// Acknowledged events per second.
    pub fn events_per_s(&self) -> f64 {
        self.acked_events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Requests per second.
    pub fn requests_per_s(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile of latency, in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * q).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }

    /// Answers with a 5xx status.
    pub fn server_errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| **s >= 500)
            .map(|(_, n)| n)
            .sum()
    }

    /// Answers that were not 2xx, plus requests that got no answer.
    pub fn errors(&self) -> u64 {
        self.failed
            + self
                .statuses
                .iter()
                .filter(|(s, _)| !(200..300).contains(*s))
                .map(|(_, n)| n)
                .sum::<u64>()
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: &str) -> anyhow::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn send(sender: &mut Sender, addr: &str, r: &Req) -> anyhow::Result<u16> {
    let mut b = hyper::Request::builder()
        .method(r.method)
        .uri(&r.path)
        .header("host", addr);
    for (k, v) in &r.headers {
        b = b.header(*k, v);
    }
    sender.ready().await?;
    let resp = sender
        .send_request(b.body(Full::new(r.body.clone()))?)
        .await?;
    let status = resp.status().as_u16();
    resp.into_body().collect().await?;
    Ok(status)
}

async fn worker(
    addr: Arc<str>,
    id: usize,
    deadline: Instant,
    make: MakeReq,
) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let mut sender = connect(&addr).await?;
    let mut seq = 0u64;
    while Instant::now() < deadline {
        let r = make(id, seq);
        seq += 1;
        let start = Instant::now();
        let res = tokio::time::timeout(Duration::from_secs(30), send(&mut sender, &addr, &r)).await;
        let took = start.elapsed();
        out.requests += 1;
        match res {
            Ok(Ok(status)) => {
                out.latencies_us
                    .push(took.as_micros().min(u128::from(u32::MAX)) as u32);
                *out.statuses.entry(status).or_default() += 1;
                if (200..300).contains(&status) {
                    out.acked_events += r.events;
                }
            }
            _ => {
                out.failed += 1;
                sender = connect(&addr).await?;
            }
        }
    }
    Ok(out)
}

/// One GET on a connection of its own: the status and the body.
pub async fn get(
    addr: &str,
    path: &str,
    headers: &[(&'static str, String)],
) -> anyhow::Result<(u16, Bytes)> {
    request(addr, "GET", path, headers, Bytes::new()).await
}

/// One request on a connection of its own: the status and the body.
pub async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&'static str, String)],
    body: Bytes,
) -> anyhow::Result<(u16, Bytes)> {
    let mut sender = connect(addr).await?;
    let mut b = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr);
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    let resp = sender.send_request(b.body(Full::new(body))?).await?;
    let status = resp.status().as_u16();
    Ok((status, resp.into_body().collect().await?.to_bytes()))
}

/// Runs `concurrency` workers against `addr` for `duration`.
pub async fn run(
    addr: &str,
    concurrency: usize,
    duration: Duration,
    make: MakeReq,
) -> anyhow::Result<Outcome> {
    let addr: Arc<str> = Arc::from(addr);
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|id| tokio::spawn(worker(Arc::clone(&addr), id, deadline, Arc::clone(&make))))
        .collect();
    let mut total = Outcome::default();
    for t in tasks {
        let o = t.await??;
        total.requests += o.requests;
        total.acked_events += o.acked_events;
        total.failed += o.failed;
        for (s, n) in o.statuses {
            *total.statuses.entry(s).or_default() += n;
        }
        total.latencies_us.extend(o.latencies_us);
    }
    total.elapsed = start.elapsed();
    total.latencies_us.sort_unstable();
    Ok(total)
}

/// Sends every request of `reqs` over `concurrency` connections; the number not answered 2xx.
pub async fn send_all(addr: &str, reqs: Vec<Req>, concurrency: usize) -> anyhow::Result<u64> {
    let queue = Arc::new(std::sync::Mutex::new(reqs));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (queue, addr) = (Arc::clone(&queue), addr.to_owned());
            tokio::spawn(async move {
                let mut sender = connect(&addr).await?;
                let mut failed = 0u64;
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some(r) = next else { break };
                    match send(&mut sender, &addr, &r).await {
                        Ok(s) if (200..300).contains(&s) => {}
                        Ok(_) => failed += 1,
                        Err(_) => {
                            failed += 1;
                            sender = connect(&addr).await?;
                        }
                    }
                }
                anyhow::Ok(failed)
            })
        })
        .collect();
    let mut failed = 0;
    for t in tasks {
        failed += t.await??;
    }
    Ok(failed)
}
