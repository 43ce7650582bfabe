//! Latency at a fixed request rate (bench/run.sh). wrk runs closed-loop (each connection
//! sends its next request when the last answer arrives), so it measures peak throughput but
//! cannot hold a rate. This sends RATE requests/s in total over CONNECTIONS keep-alive HTTP/1.1
//! connections for SECS seconds, on a fixed schedule: connection i sends its k-th request at
//! `start + (k * CONNECTIONS + i) / RATE`. Each latency is measured from that *scheduled* time,
//! not from when the request actually went out, so a slow answer is charged for the requests
//! it held up behind it on its connection (no coordinated omission; the method of wrk2).
//!
//! usage: fixed_rate --url http://HOST:PORT/PATH --rate RATE --duration SECS --connections C
//!                   [--verify-keys FILE | --gateway-keys FILE]
//!
//! Without either: `GET PATH`. With --verify-keys: `POST PATH` with a verification body
//! `{"key":"…","scopes":["read"]}`; with --gateway-keys: `GET PATH` with `X-API-Key: …`; both
//! cycling through the keys of FILE (one a line).
//!
//! One OS thread per connection with blocking sockets and a timer slack of 1 ns:
//! `std::thread::sleep` then wakes within microseconds when a core is free, where tokio's timer
//! (1 ms granularity) would add up to a millisecond to every latency. How late the sender
//! itself was (actual − scheduled send time) is reported too. Every answer is read in full, so
//! `sent` is exact: the server answered exactly that many.
//!
//! Prints a human line and a `fixed-rate-result k=v …` line; exits 1 when a connection failed
//! or an answer was not 2xx. Without `--url` it exits at once, so a plain `cargo bench` passes
//! over it.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Args {
    host: String,
    path: String,
    rate: f64,
    duration: f64,
    connections: usize,
    keys: Option<(Mode, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Verify,
    Gateway,
}

fn parse_args() -> Option<Args> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str| {
        argv.iter()
            .position(|a| a == name)
            .and_then(|i| argv.get(i + 1))
            .cloned()
    };
    let url = get("--url")?;
    let rest = url
        .strip_prefix("http://")
        .expect("--url must start with http://");
    let (host, path) = match rest.find('/') {
        Some(i) => (rest[..i].to_string(), rest[i..].to_string()),
        None => (rest.to_string(), "/".to_string()),
    };
    let number = |name: &str, default: &str| -> f64 {
        get(name)
            .unwrap_or_else(|| default.into())
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number"))
    };
    let args = Args {
        host,
        path,
        rate: number("--rate", "1000"),
        duration: number("--duration", "10"),
        connections: number("--connections", "32") as usize,
        keys: get("--verify-keys")
            .map(|f| (Mode::Verify, f))
            .or_else(|| get("--gateway-keys").map(|f| (Mode::Gateway, f))),
    };
    assert!(args.rate > 0.0, "--rate must be positive");
    assert!(args.duration > 0.0, "--duration must be positive");
    assert!(args.connections > 0, "--connections must be positive");
    Some(args)
}

fn requests(args: &Args) -> Vec<Vec<u8>> {
    match &args.keys {
        None => vec![
            format!(
                "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
                args.path, args.host
            )
            .into_bytes(),
        ],
        Some((mode, file)) => std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .lines()
            .filter(|l| !l.is_empty())
            .map(|key| {
                if *mode == Mode::Gateway {
                    return format!(
                        "GET {} HTTP/1.1\r\nHost: {}\r\nX-API-Key: {key}\r\n\r\n",
                        args.path, args.host
                    )
                    .into_bytes();
                }
                let body = format!("{{\"key\":\"{key}\",\"scopes\":[\"read\"]}}");
                format!(
                    "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    args.path,
                    args.host,
                    body.len()
                )
                .into_bytes()
            })
            .collect(),
    }
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    /// From the scheduled send time to the end of the answer, ns.
    latency: Vec<u64>,
    /// From the actual send to the end of the answer, ns.
    service: Vec<u64>,
    /// How late the request went out, ns.
    lag: Vec<u64>,
    non_2xx: u64,
    error: Option<String>,
}

fn main() {
    let Some(args) = parse_args() else {
        eprintln!(
            "fixed_rate: run by bench/run.sh (usage: fixed_rate --url http://HOST:PORT/PATH --rate R --duration SECS --connections C [--verify-keys FILE | --gateway-keys FILE])"
        );
        return;
    };
    let requests = std::sync::Arc::new(requests(&args));
    assert!(!requests.is_empty(), "no keys to send");
    let conns = args.connections;
    let total = (args.rate * args.duration).round() as u64;
    // Connect everyone first; the schedule starts once all are up.
    let streams: Vec<TcpStream> = (0..conns)
        .map(|_| {
            let s = TcpStream::connect(&args.host)
                .unwrap_or_else(|e| panic!("connect {}: {e}", args.host));
            s.set_nodelay(true).expect("nodelay");
            s
        })
        .collect();
    let start = Instant::now() + Duration::from_millis(50);
    let ns_per_request = 1e9 / args.rate;
    let handles: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, mut stream)| {
            let requests = requests.clone();
            std::thread::spawn(move || {
                precise_sleeps();
                let mut tally = Tally::default();
                let mut buf = Vec::with_capacity(16 * 1024);
                // Connections start at different keys so they do not walk the same ones in step.
                let offset = i * requests.len() / conns;
                let mut seq = i as u64;
                while seq < total {
                    let scheduled =
                        start + Duration::from_nanos((seq as f64 * ns_per_request) as u64);
                    let now = Instant::now();
                    if scheduled > now {
                        std::thread::sleep(scheduled - now);
                    }
                    let req = &requests[(offset + (seq as usize / conns)) % requests.len()];
                    let sent = Instant::now();
                    let result = stream
                        .write_all(req)
                        .and_then(|()| read_response(&mut stream, &mut buf));
                    let done = Instant::now();
                    match result {
                        Ok(status) => {
                            if !(200..300).contains(&status) {
                                tally.non_2xx += 1;
                            }
                            tally.latency.push((done - scheduled).as_nanos() as u64);
                            tally.service.push((done - sent).as_nanos() as u64);
                            tally
                                .lag
                                .push(sent.saturating_duration_since(scheduled).as_nanos() as u64);
                        }
                        Err(e) => {
                            tally.error = Some(format!("connection {i}: {e}"));
                            break;
                        }
                    }
                    seq += conns as u64;
                }
                tally
            })
        })
        .collect();
    let mut all = Tally::default();
    for h in handles {
        let t = h.join().expect("sender thread");
        all.latency.extend(t.latency);
        all.service.extend(t.service);
        all.lag.extend(t.lag);
        all.non_2xx += t.non_2xx;
        if all.error.is_none() {
            all.error = t.error;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let answered = all.latency.len() as u64;
    for v in [&mut all.latency, &mut all.service, &mut all.lag] {
        v.sort_unstable();
    }
    let ms = |v: &[u64], p: f64| -> f64 {
        if v.is_empty() {
            return f64::NAN;
        }
        let idx = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        v[idx] as f64 / 1e6
    };
    let method = match args.keys {
        Some((Mode::Verify, _)) => "POST",
        _ => "GET",
    };
    println!(
        "fixed-rate {method} {}: {:.0} req/s x {:.0} s over {conns} connections: {answered} answered of {total} scheduled ({:.0} req/s achieved, non-2xx {}); \
         latency from scheduled send: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms; \
         service time (from actual send) p50 {:.3} ms, p99 {:.3} ms; sender lag p99 {:.3} ms",
        args.path,
        args.rate,
        args.duration,
        answered as f64 / elapsed,
        all.non_2xx,
        ms(&all.latency, 0.5),
        ms(&all.latency, 0.9),
        ms(&all.latency, 0.99),
        ms(&all.latency, 0.999),
        ms(&all.latency, 1.0),
        ms(&all.service, 0.5),
        ms(&all.service, 0.99),
        ms(&all.lag, 0.99),
    );
    println!(
        "fixed-rate-result sent={answered} scheduled={total} non2xx={} p50_ms={:.3} p99_ms={:.3} p999_ms={:.3} max_ms={:.3} service_p99_ms={:.3} lag_p99_ms={:.3}",
        all.non_2xx,
        ms(&all.latency, 0.5),
        ms(&all.latency, 0.99),
        ms(&all.latency, 0.999),
        ms(&all.latency, 1.0),
        ms(&all.service, 0.99),
        ms(&all.lag, 0.99),
    );
    if let Some(e) = &all.error {
        eprintln!("fixed_rate: {e}");
    }
    if all.error.is_some() || all.non_2xx > 0 {
        std::process::exit(1);
    }
}

/// Linux lets a sleeping thread wake up to 50 µs late by default (its timer slack), to batch
/// wake-ups; 1 ns makes `sleep` wake as close to the scheduled time as the scheduler allows.
#[cfg(target_os = "linux")]
fn precise_sleeps() {
    unsafe extern "C" {
        fn prctl(option: i32, ...) -> i32;
    }
    const PR_SET_TIMERSLACK: i32 = 29;
    // SAFETY: PR_SET_TIMERSLACK takes one unsigned long and changes only this thread's slack.
    unsafe {
        prctl(PR_SET_TIMERSLACK, 1 as std::ffi::c_ulong);
    }
}

#[cfg(not(target_os = "linux"))]
fn precise_sleeps() {}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "server closed the connection",
        ));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Reads one whole response (Content-Length or chunked body) and returns its status.
fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<u16> {
    buf.clear();
    let head_end = loop {
        if let Some(pos) = find(buf, b"\r\n\r\n") {
            break pos + 4;
        }
        fill(stream, buf)?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("response head not UTF-8"))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let mut length = None;
    let mut chunked = false;
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| bad("bad content-length"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.to_ascii_lowercase().contains("chunked")
            {
                chunked = true;
            }
        }
    }
    if let Some(len) = length {
        while buf.len() < head_end + len {
            fill(stream, buf)?;
        }
    } else if chunked {
        let mut pos = head_end;
        loop {
            let line_end = loop {
                if let Some(p) = find(&buf[pos..], b"\r\n") {
                    break pos + p;
                }
                fill(stream, buf)?;
            };
            let size_text =
                std::str::from_utf8(&buf[pos..line_end]).map_err(|_| bad("chunk size"))?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("chunk size"))?;
            pos = line_end + 2;
            if size == 0 {
                // Trailers, if any, then the empty line.
                loop {
                    match find(&buf[pos..], b"\r\n") {
                        Some(0) => return Ok(status),
                        Some(p) => pos += p + 2,
                        None => fill(stream, buf)?,
                    }
                }
            }
            while buf.len() < pos + size + 2 {
                fill(stream, buf)?;
            }
            pos += size + 2;
        }
    } else if !(status == 204 || status == 304 || (100..200).contains(&status)) {
        return Err(bad("response has neither content-length nor chunked body"));
    }
    Ok(status)
}
