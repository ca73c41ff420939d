//! Slow and silent clients over raw TCP: an idle connection, headers sent halfway, a body at a byte a
//! second. The server cuts each within its (here short) time limits and goes on answering others.

use crate::helpers::TestApp;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wenji::web::serve::Timeouts;

const LIMITS: Timeouts =
    Timeouts { header: Duration::from_secs(1), body: Duration::from_secs(2), request: Duration::from_secs(3) };

/// Reads until the server closes the connection; returns what it sent and when it closed.
async fn until_closed(mut s: TcpStream, started: Instant) -> (String, Duration) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("still open after 20 s"),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), started.elapsed())
}

/// Five requests over a second, each answered within 800 ms.
async fn others_are_answered_promptly(app: &TestApp) {
    for _ in 0..5 {
        let t = Instant::now();
        let r = app.citizen.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(t.elapsed() < Duration::from_millis(800), "healthz took {:?}", t.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn slow_clients_are_cut_in_bounded_time_while_others_are_answered() {
    let app = TestApp::spawn_with(|s| s.timeouts = LIMITS).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let idle = TcpStream::connect(&addr).await.unwrap();
    let mut half = TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: wenji\r\nX-Slow: ").await.unwrap();
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    let head = "POST /f/zhengqiu HTTP/1.1\r\nHost: wenji\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 1000\r\n\r\n";
    slow.write_all(head.as_bytes()).await.unwrap();
    let (mut slow_read, mut slow_write) = slow.into_split();
    let dribble = tokio::spawn(async move {
        for _ in 0..60 {
            if slow_write.write_all(b"q").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    // Meanwhile everyone else is answered promptly.
    others_are_answered_promptly(&app).await;
    let (_, idle_after) = until_closed(idle, started).await;
    let (_, half_after) = until_closed(half, started).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), slow_read.read_to_end(&mut answer)).await;
    let slow_after = started.elapsed();
    dribble.abort();
    assert!(read.is_ok(), "the slow body is still being read after 20 s");
    assert!(idle_after < Duration::from_secs(4), "an idle connection was held {idle_after:?}");
    assert!(half_after < Duration::from_secs(4), "half-sent headers were held {half_after:?}");
    assert!(slow_after < Duration::from_secs(6), "a body at a byte a second was held {slow_after:?}");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "a body cut for time is told so: {answer}");
    assert!(answer.contains("提交超时"), "in Chinese: {answer}");
    // A kept-alive connection left idle after an answer is closed too.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: wenji\r\n\r\n").await.unwrap();
    let t = Instant::now();
    let (text, after) = until_closed(kept, t).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(after < Duration::from_secs(4), "an idle kept-alive connection was held {after:?}");
}

/// A refusal that leaves the body unread (too large, cross-site) ends the connection and says so, so a
/// browser sends its next request on a new connection instead of into the closed one.
#[tokio::test]
async fn a_refused_body_is_answered_with_connection_close() {
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let body = "q_team=".to_owned() + &"长".repeat(40_000);
    for (what, extra, status) in [
        ("cross-site", "Sec-Fetch-Site: cross-site\r\n", "403"),
        ("over 64 KiB", "Sec-Fetch-Site: same-origin\r\n", "413"),
    ] {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /f/zhengqiu HTTP/1.1\r\nHost: wenji\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             {extra}Content-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let _ = s.write_all(body.as_bytes()).await;
        let (answer, _) = until_closed(s, Instant::now()).await;
        let head = answer.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
        assert!(head.starts_with(&format!("http/1.1 {status}")), "{what}: {head}");
        assert!(head.contains("\r\nconnection: close"), "{what}: the closing is not said: {head}");
    }
    let r = app.citizen.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // A refusal after the whole body was read (invalid answers) keeps the connection for the next request.
    let r = app.submit_json("zhengqiu", "keep-alive-key-01", &serde_json::json!({"answers": {}})).await;
    assert_eq!(r.status(), 422);
    assert!(r.headers().get("connection").is_none(), "{:?}", r.headers());
}

/// A client that sends pipelined requests and never reads the answers is cut once the answer has waited
/// the body time limit (here 2 s), while others are answered meanwhile.
#[tokio::test]
async fn a_client_that_never_reads_its_answers_is_cut_after_the_body_time_limit() {
    let app = TestApp::spawn_with(|s| s.timeouts = LIMITS).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut hoarder = TcpStream::connect(&addr).await.unwrap();
    let asked = 1500;
    let requests = "GET /assets/tag.js HTTP/1.1\r\nHost: wenji\r\n\r\n".repeat(asked);
    hoarder.write_all(requests.as_bytes()).await.unwrap();
    let started = Instant::now();
    others_are_answered_promptly(&app).await;
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(started.elapsed())).await;
    // Read only now: a connection still open would get every answer (about 30 MB), then close when idle.
    let (got, _) = until_closed(hoarder, Instant::now()).await;
    let answered = got.matches("HTTP/1.1 200").count();
    assert!(answered > 0, "some answers were sent before the client stopped reading");
    assert!(answered < asked, "the connection was kept while its answers waited: all {answered} answered");
}

/// A citizen's GET of the form over a new connection that the server closes after the answer: how long
/// it took, or a panic after 5 s.
async fn citizen_reads_the_form(addr: &str) -> Duration {
    let started = Instant::now();
    let ask = async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /f/zhengqiu HTTP/1.1\r\nHost: wenji\r\nConnection: close\r\n\r\n").await.unwrap();
        until_closed(s, started).await
    };
    let (answer, took) = tokio::time::timeout(Duration::from_secs(5), ask).await.expect("answered within 5 s");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    took
}

/// Whether the server has closed `s` (read 0 bytes) within `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    matches!(tokio::time::timeout(within, s.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
}

/// A submission through the API whose body arrives slowly: the headers and the first byte are sent, the
/// rest by [`SlowSubmission::finish`]. Its request is in flight meanwhile (the body has 60 s by default).
struct SlowSubmission {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl SlowSubmission {
    async fn start(addr: &str, key: &str) -> SlowSubmission {
        let body = format!("{:<1000}", r#"{"answers": {}}"#).into_bytes();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /api/v1/forms/zhengqiu/responses HTTP/1.1\r\nHost: wenji\r\nContent-Type: application/json\r\n\
             Idempotency-Key: {key}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body[..1]).await.unwrap();
        SlowSubmission { stream, rest: body[1..].to_vec() }
    }

    /// Sends the rest of the body and returns the answer's status line; the connection stays open.
    async fn finish(mut self) -> (String, TcpStream) {
        self.stream.write_all(&self.rest).await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut buf)).await.unwrap().unwrap();
            assert!(n > 0, "the connection was closed before the answer: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        (String::from_utf8_lossy(&got).lines().next().unwrap().to_owned(), self.stream)
    }
}

/// One client filling the cap with idle connections (silent, or sending headers halfway) does not keep
/// citizens out: a new client closes the connection idle longest and is answered at once, not after the
/// 15 s header time limit (two more of the attacker's wait beyond the cap too).
#[tokio::test]
async fn at_the_cap_a_new_client_closes_the_connection_idle_longest_instead_of_waiting() {
    let app = TestApp::spawn_with(|s| s.max_connections = 8).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for i in 0..10 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 1 {
            s.write_all(b"GET /f/zhengqiu HTTP/1.1\r\nHost: wenji\r\nX-Slow: ").await.unwrap();
        }
        idle.push(s);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..5 {
        let took = citizen_reads_the_form(&addr).await;
        assert!(took < Duration::from_secs(2), "a citizen waited {took:?} behind idle connections");
    }
    assert!(closed_within(&mut idle[0], Duration::from_secs(1)).await, "the connection idle longest was not closed");
    assert!(!closed_within(&mut idle[9], Duration::from_millis(300)).await, "the newest idle one was closed first");
}

/// At the cap only idle connections make room: a long export download read slowly and a submission whose
/// body is still arriving, both older than every idle one, are never closed however many new clients come.
#[tokio::test]
async fn at_the_cap_a_download_or_a_request_in_flight_is_never_closed_for_a_new_client() {
    let app = TestApp::spawn_with(|s| s.max_connections = 4).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let (admin, csrf) = app.login_as(wenji::domain::user::Role::Admin).await;
    app.export_as(&admin, &csrf, &[("form", "zhengqiu"), ("format", "csv")]).await.unwrap();
    // A big campaign's file: the export padded to 32 MiB, far more than the sockets' buffers hold.
    let file = std::fs::read_dir(&app.config.exports_dir).unwrap().next().unwrap().unwrap().path();
    let job = file.file_name().unwrap().to_str().unwrap().split('-').next().unwrap().to_owned();
    let mut padded = std::fs::OpenOptions::new().append(true).open(&file).unwrap();
    std::io::Write::write_all(&mut padded, &vec![b'\n'; 32 << 20]).unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    let mut download = admin.get(app.url(&format!("/w/exports/{job}/download"))).send().await.unwrap();
    assert_eq!(download.status(), 200);
    let mut got = download.chunk().await.unwrap().expect("the download begins").len() as u64;
    let submission = SlowSubmission::start(&addr, "in-flight-at-the-cap").await;
    let mut idle = Vec::new();
    for _ in 0..6 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
        let took = citizen_reads_the_form(&addr).await;
        assert!(took < Duration::from_secs(2), "a citizen waited {took:?}");
    }
    assert!(closed_within(&mut idle[0], Duration::from_secs(1)).await, "idle connections made room");
    let (status, _) = submission.finish().await;
    assert!(status.starts_with("HTTP/1.1 422"), "the submission in flight was answered: {status}");
    while let Some(chunk) = download.chunk().await.expect("the download was not cut") {
        got += chunk.len() as u64;
    }
    assert_eq!(got, size, "the whole file arrived");
}

/// When every connection has a request in flight a further client waits to be accepted, and is answered
/// as soon as one of them is answered and falls idle (not when that one's 15 s idle limit ends).
#[tokio::test]
async fn when_every_connection_is_busy_a_client_waits_until_one_falls_idle() {
    let app = TestApp::spawn_with(|s| s.max_connections = 4).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut busy = Vec::new();
    for i in 0..4 {
        busy.push(SlowSubmission::start(&addr, &format!("busy-at-the-cap-{i}")).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let citizen = app.citizen.clone();
    let url = app.url("/healthz");
    let waiting = tokio::spawn(async move { citizen.get(url).send().await.map(|r| r.status().as_u16()) });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "a fifth connection was served beside four busy ones");
    let (status, _kept_alive) = busy.pop().unwrap().finish().await;
    assert!(status.starts_with("HTTP/1.1 422"), "{status}");
    let status = tokio::time::timeout(Duration::from_secs(3), waiting).await;
    assert_eq!(status.expect("answered once a connection fell idle").unwrap().unwrap(), 200);
}

/// A body declared over 64 KiB is refused at once, before any of it arrives, in the words of the limit
/// met while reading (JSON under /api/), and the connection is closed.
#[tokio::test]
async fn a_body_declared_over_64_kib_is_refused_at_once_without_waiting_for_it() {
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    for (path, ctype, said) in [
        ("/f/zhengqiu", "application/x-www-form-urlencoded", "超过 64 KB"),
        ("/api/v1/forms/zhengqiu/responses", "application/json", "\"error\":\"提交的内容太长"),
    ] {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: wenji\r\nSec-Fetch-Site: same-origin\r\nContent-Type: {ctype}\r\n\
             Idempotency-Key: declared-too-large\r\nContent-Length: 70000\r\n\r\n"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(3), until_closed(s, Instant::now())).await;
        let (answer, _) = answer.unwrap_or_else(|_| panic!("{path}: still waiting for the body after 3 s"));
        let head = answer.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 413"), "{path}: {answer}");
        assert!(head.contains("\r\nconnection: close"), "{path}: {head}");
        assert!(answer.contains(said), "{path}: {answer}");
    }
}
