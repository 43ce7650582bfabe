//! A small real SMTP server for the tests: a tokio listener speaking EHLO/HELO, MAIL, RCPT,
//! DATA, RSET, NOOP and QUIT, recording each whole message. It can be started on a chosen
//! port (to come back where the server expects it) and stopped (closing every connection).

use base64::Engine as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// One message as received: the envelope and the raw DATA (dot-unstuffed).
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Default)]
struct Inbox {
    messages: Mutex<Vec<Received>>,
    arrived: Notify,
}

pub struct SmtpServer {
    pub port: u16,
    inbox: Arc<Inbox>,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

/// A port that was free a moment ago (nothing listens on it now).
pub async fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

impl SmtpServer {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Listens on `port` (0: any free one).
    pub async fn start_on(port: u16) -> Self {
        Self::start_with_inbox(port, Arc::default()).await
    }

    async fn start_with_inbox(port: u16, inbox: Arc<Inbox>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = {
            let inbox = inbox.clone();
            let connections = connections.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let handle = tokio::spawn(converse(stream, inbox.clone()));
                    connections.lock().unwrap().push(handle);
                }
            })
        };
        Self {
            port,
            inbox,
            accept,
            connections,
        }
    }

    /// `smtp://127.0.0.1:<port>` for KEYPORT_SMTP_URL.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops listening and drops every open connection; what arrived stays readable through
    /// the returned inbox handle via [`SmtpServer::restart`].
    pub fn stop(self) -> StoppedSmtp {
        self.accept.abort();
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
        StoppedSmtp {
            port: self.port,
            inbox: self.inbox.clone(),
        }
    }

    /// Every message received so far, the registrations' confirmation mail included.
    pub fn all_messages(&self) -> Vec<Received> {
        self.inbox.messages.lock().unwrap().clone()
    }

    /// The messages received so far but the confirmation links registration mails (stories
    /// about other mail leave those out; [`SmtpServer::confirmations`] has them).
    pub fn messages(&self) -> Vec<Received> {
        let all = self.all_messages();
        all.into_iter().filter(|m| !m.is_confirmation()).collect()
    }

    pub fn confirmations(&self) -> Vec<Received> {
        let all = self.all_messages();
        all.into_iter().filter(Received::is_confirmation).collect()
    }

    /// Waits (up to 10 s) until `n` messages (as [`SmtpServer::messages`] counts) have
    /// arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        self.wait_until(n, Self::messages).await
    }

    /// [`SmtpServer::wait_for`] for confirmation mails.
    pub async fn wait_for_confirmations(&self, n: usize) -> Vec<Received> {
        self.wait_until(n, Self::confirmations).await
    }

    async fn wait_until(&self, n: usize, which: fn(&Self) -> Vec<Received>) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.inbox.arrived.notified();
            let got = which(self);
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("expected {n} messages, got {}: {got:#?}", got.len());
            }
        }
    }
}

/// A stopped server's port and what it received; start it again on the same port.
pub struct StoppedSmtp {
    pub port: u16,
    inbox: Arc<Inbox>,
}

impl StoppedSmtp {
    pub async fn restart(self) -> SmtpServer {
        SmtpServer::start_with_inbox(self.port, self.inbox).await
    }
}

async fn converse(stream: TcpStream, inbox: Arc<Inbox>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if write
        .write_all(b"220 keyport-test ESMTP\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_string();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-keyport-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 keyport-test\r\n",
            "MAIL" => {
                from = angle(&command);
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(angle(&command));
                b"250 OK\r\n"
            }
            "DATA" => {
                if write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    match lines.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // Dot-stuffing (RFC 5321 4.5.2): a leading dot was doubled.
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                inbox.messages.lock().unwrap().push(Received {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
                inbox.arrived.notify_waiters();
                b"250 OK: queued\r\n"
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                let _ = write.write_all(b"221 Bye\r\n").await;
                return;
            }
            _ => b"502 Command not implemented\r\n",
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}

/// `MAIL FROM:<a@b>` → `a@b`.
fn angle(command: &str) -> String {
    let start = command.find('<').map(|i| i + 1).unwrap_or(0);
    let end = command.rfind('>').unwrap_or(command.len());
    command.get(start..end).unwrap_or("").to_string()
}

impl Received {
    pub fn is_confirmation(&self) -> bool {
        self.subject().starts_with("Confirm your email address")
    }

    /// A header's value (unfolded), e.g. `subject`.
    pub fn header(&self, name: &str) -> Option<String> {
        header_in(head_of(&self.data), name)
    }

    /// The decoded Subject (RFC 2047 encoded words are decoded).
    pub fn subject(&self) -> String {
        decode_words(&self.header("subject").unwrap_or_default())
    }

    /// The decoded body of the first part of `content_type` (e.g. `text/plain`).
    pub fn part(&self, content_type: &str) -> Option<String> {
        let data = self.data.replace("\r\n", "\n");
        let boundary = header_in(head_of(&data), "content-type").and_then(|ct| {
            ct.split("boundary=")
                .nth(1)
                .map(|b| b.trim_matches('"').to_string())
        })?;
        data.split(&format!("--{boundary}")).find_map(|section| {
            let section = section.trim_start_matches('\n');
            let (head, body) = section.split_once("\n\n")?;
            let ct = header_in(head, "content-type")?;
            if !ct.to_ascii_lowercase().starts_with(content_type) {
                return None;
            }
            let encoding = header_in(head, "content-transfer-encoding")
                .unwrap_or_default()
                .to_ascii_lowercase();
            Some(decode_body(body, &encoding))
        })
    }

    pub fn text(&self) -> String {
        self.part("text/plain").expect("a text/plain part")
    }

    pub fn html(&self) -> String {
        self.part("text/html").expect("a text/html part")
    }

    /// The first `{base}{path}?token=…` link in the text body, and its token.
    pub fn link(&self, base: &str, path: &str) -> (String, String) {
        let text = self.text();
        let prefix = format!("{base}{path}?token=");
        let start = text
            .find(&prefix)
            .unwrap_or_else(|| panic!("no {prefix} link in:\n{text}"));
        let link: String = text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        let token = link[prefix.len()..].to_string();
        (link, token)
    }
}

fn head_of(data: &str) -> &str {
    let data_end = data
        .find("\r\n\r\n")
        .or_else(|| data.find("\n\n"))
        .unwrap_or(data.len());
    &data[..data_end]
}

fn header_in(head: &str, name: &str) -> Option<String> {
    let unfolded = head
        .replace("\r\n", "\n")
        .replace("\n ", " ")
        .replace("\n\t", " ");
    unfolded.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

fn decode_body(body: &str, encoding: &str) -> String {
    match encoding {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .expect("base64 body"),
            )
            .unwrap()
        }
        "quoted-printable" => decode_qp(body),
        _ => body.to_string(),
    }
}

fn decode_qp(body: &str) -> String {
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(Ok(b)) = joined.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// `=?utf-8?b?…?=` and `=?utf-8?q?…?=` words, as lettre writes non-ASCII subjects.
fn decode_words(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if let Some(inner) = lower
            .strip_prefix("=?utf-8?b?")
            .and(word.get(10..word.len() - 2))
        {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(inner)
                .unwrap();
            out.push_str(&String::from_utf8(bytes).unwrap());
        } else if let Some(inner) = lower
            .strip_prefix("=?utf-8?q?")
            .and(word.get(10..word.len() - 2))
        {
            out.push_str(&decode_qp(&inner.replace('_', " ")));
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}
