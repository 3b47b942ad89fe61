//! `quietwire-relay-load`: a load generator for the reference relay
//! (`spec/08-mailboxes-and-relay.md`, §8.6: put, durable acknowledgement).
//!
//! Opens `--connections` WebSocket connections to a relay and, on each, puts envelopes of
//! `--size` random bytes (TTL `--ttl`) one after the other, each as soon as the previous
//! one was answered, for `--seconds` or until `--count` puts were made in all. It prints the acknowledged envelopes per second and the p50 and p99 put latency
//! (request sent → ok received).
//!
//! With `--store-baseline PATH` it also measures the raw durable write rate of redb on this
//! machine: one write transaction per `--size`-byte value, committed with the same default
//! (immediate) durability the relay uses, in a scratch database at `PATH` (which must not
//! exist; it is removed afterwards). Given both, it prints the ratio relay / raw: how much of
//! the disk's durable commit rate the relay delivers as acknowledged puts.
//!
//! The relay's per-connection rate limit applies: start the relay with a high `--rate` and
//! `--burst` for a throughput measurement. Refused puts are counted by error class.
//!
//! ```text
//! quietwire-relay --data /tmp/load.redb --rate 1000000 --burst 1000000 &
//! quietwire-relay-load --url ws://127.0.0.1:7447/v1/ws --seconds 10 --store-baseline /tmp/raw.redb
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use quietwire::relay::{Reply, Request, RequestFrame, ServerFrame};
use redb::{Database, TableDefinition};
use tokio_tungstenite::tungstenite::Message;

/// Load generator for the Quietwire reference relay.
#[derive(Clone, Debug, Parser)]
#[command(name = "quietwire-relay-load", version, about, long_about = None)]
struct Args {
    /// The relay's WebSocket URL (`ws://127.0.0.1:7447/v1/ws`).
    #[arg(long)]
    url: Option<String>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    connections: u32,
    /// Run for this many seconds (the default, 10, unless `--count` is given).
    #[arg(long)]
    seconds: Option<u64>,
    /// Stop after this many puts (or raw writes) in all.
    #[arg(long)]
    count: Option<u64>,
    /// Envelope (and raw value) size in bytes.
    #[arg(long, default_value_t = 1024)]
    size: usize,
    /// TTL of every put, seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: u32,
    /// Puts per mailbox before a connection moves to a fresh random mailbox.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    per_mailbox: u64,
    /// Also measure raw redb durable writes in a scratch database at this path.
    #[arg(long)]
    store_baseline: Option<PathBuf>,
}

/// When a run stops.
#[derive(Clone, Copy, Debug)]
struct Budget {
    deadline: Option<Instant>,
    remaining: Option<u64>,
}

impl Budget {
    fn new(args: &Args) -> Budget {
        let seconds = match (args.seconds, args.count) {
            (None, None) => Some(10),
            (s, _) => s,
        };
        Budget {
            deadline: seconds.map(|s| Instant::now() + Duration::from_secs(s)),
            remaining: args.count,
        }
    }

    fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// Claims one unit of a shared count budget; `false` once it is spent.
fn claim(remaining: &AtomicU64) -> bool {
    remaining
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

/// One connection's results.
#[derive(Debug, Default)]
struct Stats {
    /// Put latencies, microseconds.
    latencies: Vec<u64>,
    /// Refused puts by error class.
    errors: BTreeMap<String, u64>,
}

fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| format!("randomness: {e}"))?;
    Ok(out)
}

fn random_vec(n: usize) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; n];
    getrandom::fill(&mut out).map_err(|e| format!("randomness: {e}"))?;
    Ok(out)
}

/// Puts on one connection until the budget is spent.
async fn connection(
    url: String,
    args: Args,
    budget: Budget,
    remaining: Arc<AtomicU64>,
) -> Result<Stats, String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut max_frame = u64::MAX;
    match ws.next().await {
        Some(Ok(Message::Binary(b))) => match ServerFrame::decode(&b, max_frame) {
            Ok(ServerFrame::Welcome { limits, .. }) => max_frame = u64::from(limits.max_frame),
            _ => return Err("the first frame is not a welcome".into()),
        },
        _ => return Err("no welcome".into()),
    }
    let mut stats = Stats::default();
    let mut mailbox = random::<32>()?;
    for n in 1u32.. {
        if budget.expired() || (budget.remaining.is_some() && !claim(&remaining)) {
            break;
        }
        if u64::from(n) % args.per_mailbox == 0 {
            mailbox = random::<32>()?;
        }
        let frame = RequestFrame {
            id: n,
            request: Request::Put {
                mailbox,
                item: random()?,
                envelope: random_vec(args.size)?,
                ttl: args.ttl,
            },
        }
        .encode();
        let sent = Instant::now();
        ws.send(Message::Binary(frame.into()))
            .await
            .map_err(|e| format!("send: {e}"))?;
        let reply = loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) => {
                    break ServerFrame::decode(&b, max_frame).map_err(|e| format!("reply: {e}"))?;
                }
                Some(Ok(_)) => {}
                _ => return Err("the relay closed the connection".into()),
            }
        };
        match reply {
            ServerFrame::Ok {
                id,
                reply: Reply::Stored,
            } if id == n => {
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                stats.latencies.push(micros);
            }
            ServerFrame::Error { class, .. } => *stats.errors.entry(class).or_insert(0) += 1,
            other => return Err(format!("unexpected reply: {other:?}")),
        }
    }
    let _ = ws.close(None).await;
    Ok(stats)
}

/// The `q`-quantile of sorted values.
fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(rank).copied().unwrap_or(0)
}

/// Runs the relay load; returns acknowledged envelopes per second.
async fn relay_load(url: &str, args: &Args) -> Result<f64, String> {
    let budget = Budget::new(args);
    let remaining = Arc::new(AtomicU64::new(args.count.unwrap_or(0)));
    let start = Instant::now();
    let tasks: Vec<_> = (0..args.connections)
        .map(|_| {
            tokio::spawn(connection(
                url.to_owned(),
                args.clone(),
                budget,
                Arc::clone(&remaining),
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for task in tasks {
        let stats = task.await.map_err(|e| format!("task: {e}"))??;
        latencies.extend(stats.latencies);
        for (class, n) in stats.errors {
            *errors.entry(class).or_insert(0) += n;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let rate = latencies.len() as f64 / elapsed;
    println!(
        "relay: {} connections, {:.1} s, {} envelopes of {} bytes acknowledged: {:.0} envelopes/s; \
         put latency p50 {:.2} ms, p99 {:.2} ms",
        args.connections,
        elapsed,
        latencies.len(),
        args.size,
        rate,
        quantile(&latencies, 0.50) as f64 / 1000.0,
        quantile(&latencies, 0.99) as f64 / 1000.0,
    );
    if !errors.is_empty() {
        println!("relay: refused puts by class: {errors:?}");
    }
    Ok(rate)
}

const RAW: TableDefinition<u64, &[u8]> = TableDefinition::new("raw");

/// Durable redb writes, one committed transaction per value; returns writes per second.
fn raw_baseline(path: &Path, args: &Args) -> Result<f64, String> {
    if path.exists() {
        return Err(format!(
            "{} exists; give a path for a scratch database",
            path.display()
        ));
    }
    let result = (|| -> Result<(u64, f64), redb::Error> {
        let db = Database::create(path)?;
        let budget = Budget::new(args);
        let mut remaining = args.count;
        let mut written = 0u64;
        let start = Instant::now();
        loop {
            if budget.expired() || remaining == Some(0) {
                break;
            }
            let value =
                random_vec(args.size).map_err(|e| redb::Error::Io(std::io::Error::other(e)))?;
            let txn = db.begin_write()?;
            txn.open_table(RAW)?.insert(written, value.as_slice())?;
            txn.commit()?;
            written += 1;
            remaining = remaining.map(|r| r.saturating_sub(1));
        }
        Ok((written, start.elapsed().as_secs_f64()))
    })();
    let _ = std::fs::remove_file(path);
    let (written, elapsed) = result.map_err(|e| format!("redb: {e}"))?;
    let rate = written as f64 / elapsed;
    println!(
        "raw redb: {:.1} s, {} committed write transactions of {} bytes: {:.0} writes/s",
        elapsed, written, args.size, rate
    );
    Ok(rate)
}

fn run(args: &Args) -> Result<(), String> {
    if args.url.is_none() && args.store_baseline.is_none() {
        return Err("nothing to do: give --url, --store-baseline, or both".into());
    }
    let relay = match &args.url {
        Some(url) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("runtime: {e}"))?;
            Some(runtime.block_on(relay_load(url, args))?)
        }
        None => None,
    };
    let raw = match &args.store_baseline {
        Some(path) => Some(raw_baseline(path, args)?),
        None => None,
    };
    if let (Some(relay), Some(raw)) = (relay, raw) {
        println!("ratio relay/raw: {:.2}", relay / raw);
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quietwire-relay-load: {e}");
            ExitCode::FAILURE
        }
    }
}
