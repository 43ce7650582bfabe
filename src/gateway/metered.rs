//! Streaming bodies that count their bytes: the request body on its way upstream (with a
//! size cap) and the response body on its way back (reporting once it ends or is dropped,
//! so a usage record has the real size and duration of a streamed answer).

use bytes::Bytes;
use futures_util::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

type ByteStream<E> = Pin<Box<dyn Stream<Item = Result<Bytes, E>> + Send>>;

/// What the upstream-bound request body has done so far.
#[derive(Debug, Default)]
pub struct RequestMeter {
    pub bytes: AtomicU64,
    /// Set when the body went past the cap and was cut off.
    pub too_large: AtomicBool,
}

/// Counts and caps a request body; past `max` bytes the stream fails.
pub struct CappedBody<E> {
    inner: ByteStream<E>,
    max: u64,
    meter: Arc<RequestMeter>,
}

impl<E> CappedBody<E> {
    pub fn new(inner: ByteStream<E>, max: u64, meter: Arc<RequestMeter>) -> Self {
        Self { inner, max, meter }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body over the gateway's limit")]
    TooLarge,
    #[error("reading the request body: {0}")]
    Read(String),
}

impl<E: std::fmt::Display> Stream for CappedBody<E> {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let total = self
                    .meter
                    .bytes
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed)
                    + chunk.len() as u64;
                if total > self.max {
                    self.meter.too_large.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(BodyError::TooLarge)));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(BodyError::Read(e.to_string())))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Counts a response body and calls `on_done` with the byte count exactly once: at its end,
/// or when the client goes away first.
pub struct ReportingBody<E> {
    inner: ByteStream<E>,
    bytes: u64,
    on_done: Option<Box<dyn FnOnce(u64) + Send>>,
}

impl<E> ReportingBody<E> {
    pub fn new(inner: ByteStream<E>, on_done: Box<dyn FnOnce(u64) + Send>) -> Self {
        Self {
            inner,
            bytes: 0,
            on_done: Some(on_done),
        }
    }

    fn finish(&mut self) {
        if let Some(done) = self.on_done.take() {
            done(self.bytes);
        }
    }
}

impl<E> Stream for ReportingBody<E> {
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.inner.as_mut().poll_next(cx);
        match &next {
            Poll::Ready(Some(Ok(chunk))) => self.bytes += chunk.len() as u64,
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => self.finish(),
            Poll::Pending => {}
        }
        next
    }
}

impl<E> Drop for ReportingBody<E> {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::Mutex;

    fn chunks(parts: &[&'static [u8]]) -> ByteStream<std::io::Error> {
        let items: Vec<Result<Bytes, std::io::Error>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        Box::pin(futures_util::stream::iter(items))
    }

    #[tokio::test]
    async fn a_request_body_past_the_cap_fails_and_says_so() {
        let meter = Arc::new(RequestMeter::default());
        let body = CappedBody::new(chunks(&[b"12345", b"678"]), 6, meter.clone());
        let out: Vec<_> = body.collect().await;
        assert!(out[0].is_ok());
        assert!(matches!(out[1], Err(BodyError::TooLarge)));
        assert!(meter.too_large.load(Ordering::Relaxed));
        let meter = Arc::new(RequestMeter::default());
        let body = CappedBody::new(chunks(&[b"12345", b"6"]), 6, meter.clone());
        assert!(body.collect::<Vec<_>>().await.iter().all(|c| c.is_ok()));
        assert_eq!(meter.bytes.load(Ordering::Relaxed), 6);
    }

    #[tokio::test]
    async fn a_response_body_reports_once_at_the_end_or_when_dropped() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let body = ReportingBody::new(
            chunks(&[b"abc", b"de"]),
            Box::new(move |n| s.lock().unwrap().push(n)),
        );
        let _ = body.collect::<Vec<_>>().await;
        assert_eq!(*seen.lock().unwrap(), vec![5]);

        let s = seen.clone();
        let mut body = ReportingBody::new(
            chunks(&[b"abc", b"de"]),
            Box::new(move |n| s.lock().unwrap().push(n)),
        );
        let _ = body.next().await;
        drop(body);
        assert_eq!(*seen.lock().unwrap(), vec![5, 3]);
    }
}
