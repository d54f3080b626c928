//! A plugin's standard output and error: what `println!` and `eprintln!`
//! (or a crate that writes there) produce reaches the log, under the
//! plugin's name, within the call's log caps, instead of vanishing.
//!
//! Each stream is an in-memory buffer of at most [`STDIO_BYTES`]; writes
//! beyond it are counted and dropped, never refused (a refused write would
//! make `println!` panic inside the guest). When the call ends, the
//! buffers are forwarded line by line ([`CallState`]'s `Drop`).
//!
//! [`CallState`]: super::state::CallState

use bytes::Bytes;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// What one stream keeps per call.
pub const STDIO_BYTES: usize = 64 << 10;

#[derive(Debug, Default)]
struct Buffer {
    bytes: Vec<u8>,
    dropped: usize,
}

impl Buffer {
    fn take(&mut self, data: &[u8]) {
        let room = STDIO_BYTES.saturating_sub(self.bytes.len());
        let kept = data.len().min(room);
        self.bytes.extend_from_slice(&data[..kept]);
        self.dropped += data.len() - kept;
    }
}

/// One of a call's standard streams, shared by every handle the guest opens.
#[derive(Debug, Clone, Default)]
pub struct CapturedOutput(Arc<Mutex<Buffer>>);

impl CapturedOutput {
    /// What was written (complete lines and a final partial one) and how
    /// many bytes were dropped beyond the cap; the buffer is emptied.
    pub fn drain(&self) -> (Vec<String>, usize) {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(&b.bytes).into_owned();
        let dropped = b.dropped;
        b.bytes.clear();
        b.dropped = 0;
        let lines = text
            .lines()
            .map(|l| l.trim_end_matches('\r').to_string())
            .filter(|l| !l.trim().is_empty())
            .collect();
        (lines, dropped)
    }

    fn write(&self, data: &[u8]) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take(data);
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        CapturedOutput::write(self, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always room: what does not fit is counted and dropped.
        Ok(STDIO_BYTES)
    }
}

#[async_trait::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        CapturedOutput::write(&self, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_back_and_a_flood_is_cut_and_counted() {
        let out = CapturedOutput::default();
        out.write(b"hello\r\nworld\n\npartial");
        let (lines, dropped) = out.drain();
        assert_eq!(lines, ["hello", "world", "partial"]);
        assert_eq!(dropped, 0);
        out.write(&vec![b'x'; STDIO_BYTES + 10]);
        let (lines, dropped) = out.drain();
        assert_eq!((lines[0].len(), dropped), (STDIO_BYTES, 10));
    }
}
