//! Flush consolidation for the gRPC connections: answers that finish close together leave
//! in one write, and so in fewer TCP segments, while a lone answer still leaves at once.
//!
//! Nagle's algorithm is off on accepted connections (a multi-frame answer would otherwise
//! wait for the client's delayed ACK, ~40 ms), so every flush of the HTTP/2 connection is a
//! `writev` that the kernel sends at once. Under load, answers finish one after another on
//! other tasks, and the connection flushed after each: about one segment per answer, each
//! paying the full path through the TCP stack on both ends. [`Coalescing`] holds a flush
//! back for one turn of the scheduler: it keeps what was written, wakes its own task and
//! answers `Pending`, so the tasks already ready to run (more answers on the same
//! connection) run first; the next flush writes everything gathered with one `writev`.
//! When nothing else is ready the turn is immediate, so an idle server answers as fast as
//! before. Netty's `FlushConsolidationHandler` does the same for the same reason.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes held before a write goes through without waiting for the flush: large answers
/// stream through instead of piling up in memory.
const HOLD_LIMIT: usize = 64 * 1024;

/// Room kept between flushes; a larger buffer (after a burst) is given back, so an idle
/// connection holds at most this much.
const KEEP_CAPACITY: usize = 8 * 1024;

/// An IO stream whose flushes are held back for one turn of the scheduler (see the
/// module's documentation). Reads pass through.
#[derive(Debug)]
pub struct Coalescing<T> {
    io: T,
    /// Written but not yet sent; `sent` of it went out already.
    held: Vec<u8>,
    sent: usize,
    /// A flush came while bytes were held and yielded once; the next flush sends them.
    yielded: bool,
}

impl<T> Coalescing<T> {
    pub fn new(io: T) -> Coalescing<T> {
        Coalescing { io, held: Vec::new(), sent: 0, yielded: false }
    }
}

impl<T: AsyncWrite + Unpin> Coalescing<T> {
    /// Sends what is held, until all of it is out or the socket is full.
    fn poll_send_held(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.held.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.held[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.held.clear();
        self.sent = 0;
        if self.held.capacity() > KEEP_CAPACITY {
            self.held = Vec::new();
        }
        Poll::Ready(Ok(()))
    }

    /// Makes room for `len` more bytes: sends what is held first if it would pass the limit.
    fn poll_room(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<io::Result<()>> {
        if !self.held.is_empty() && self.held.len() + len > HOLD_LIMIT {
            ready!(self.poll_send_held(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Coalescing<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Coalescing<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(data)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let len: usize = data.iter().map(|s| s.len()).sum();
        ready!(this.poll_room(cx, len))?;
        if len >= HOLD_LIMIT {
            // Nothing is held now (sent above): a large write goes straight through.
            return Pin::new(&mut this.io).poll_write_vectored(cx, data);
        }
        for slice in data {
            this.held.extend_from_slice(slice);
        }
        Poll::Ready(Ok(len))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.held.is_empty() {
            this.yielded = false;
            return Pin::new(&mut this.io).poll_flush(cx);
        }
        if !this.yielded {
            // Let the tasks that are ready run first: their answers join this write.
            this.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        ready!(this.poll_send_held(cx))?;
        this.yielded = false;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_send_held(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

impl<T: tonic::transport::server::Connected> tonic::transport::server::Connected for Coalescing<T> {
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    /// A socket that records every write call; it takes at most `max_write` bytes a call
    /// and answers `Pending` (waking at once) to the next `stalls` calls.
    #[derive(Default)]
    struct Socket {
        writes: Vec<Vec<u8>>,
        flushes: usize,
        shutdown: bool,
        max_write: Option<usize>,
        stalls: usize,
    }

    impl AsyncWrite for Socket {
        fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
            if self.stalls > 0 {
                self.stalls -= 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let n = self.max_write.map_or(data.len(), |m| m.min(data.len()));
            self.writes.push(data[..n].to_vec());
            Poll::Ready(Ok(n))
        }
        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.shutdown = true;
            Poll::Ready(Ok(()))
        }
    }

    /// Counts its wakes.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn cx() -> (Arc<Wakes>, Waker) {
        let wakes = Arc::new(Wakes::default());
        (wakes.clone(), Waker::from(wakes))
    }

    fn write(c: &mut Coalescing<Socket>, waker: &Waker, data: &[u8]) {
        let mut cx = Context::from_waker(waker);
        assert!(matches!(Pin::new(c).poll_write(&mut cx, data), Poll::Ready(Ok(n)) if n == data.len()));
    }

    fn flush(c: &mut Coalescing<Socket>, waker: &Waker) -> Poll<io::Result<()>> {
        Pin::new(c).poll_flush(&mut Context::from_waker(waker))
    }

    #[test]
    fn answers_written_before_the_flush_leave_in_one_write_after_one_turn() {
        let (wakes, waker) = cx();
        let mut c = Coalescing::new(Socket::default());
        write(&mut c, &waker, b"first answer;");
        // The flush yields once: nothing is sent yet, and the task is woken to come back.
        assert!(flush(&mut c, &waker).is_pending());
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "the flushing task is woken at once");
        assert!(c.io.writes.is_empty(), "held for one turn");
        // Meanwhile another answer was written: it joins the same write.
        write(&mut c, &waker, b"second answer");
        let vectored = [IoSlice::new(b";third"), IoSlice::new(b" answer")];
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(Pin::new(&mut c).poll_write_vectored(&mut cx, &vectored), Poll::Ready(Ok(13))));
        assert!(matches!(flush(&mut c, &waker), Poll::Ready(Ok(()))));
        assert_eq!(c.io.writes, vec![b"first answer;second answer;third answer".to_vec()], "one write");
        assert_eq!(c.io.flushes, 1);
        // With nothing held, a flush goes straight to the socket, and a new answer is
        // held again for one turn.
        assert!(matches!(flush(&mut c, &waker), Poll::Ready(Ok(()))));
        assert_eq!(c.io.flushes, 2);
        write(&mut c, &waker, b"later");
        assert!(flush(&mut c, &waker).is_pending());
        assert!(matches!(flush(&mut c, &waker), Poll::Ready(Ok(()))));
        assert_eq!(c.io.writes.len(), 2);
    }

    #[test]
    fn a_full_socket_keeps_what_is_left_and_sends_it_in_order() {
        let (_, waker) = cx();
        let mut c = Coalescing::new(Socket { max_write: Some(4), stalls: 1, ..Socket::default() });
        write(&mut c, &waker, b"0123456789");
        assert!(flush(&mut c, &waker).is_pending(), "the turn");
        assert!(flush(&mut c, &waker).is_pending(), "the socket is full");
        assert!(matches!(flush(&mut c, &waker), Poll::Ready(Ok(()))));
        assert_eq!(c.io.writes.concat(), b"0123456789".to_vec());
        assert!(c.held.is_empty());
    }

    #[test]
    fn large_writes_go_through_and_shutdown_sends_what_is_held() {
        let (_, waker) = cx();
        let mut c = Coalescing::new(Socket::default());
        write(&mut c, &waker, b"small");
        let large = vec![7u8; HOLD_LIMIT];
        // What is held goes first, then the large write itself, without waiting for a flush.
        write(&mut c, &waker, &large);
        assert_eq!(c.io.writes, vec![b"small".to_vec(), large]);
        write(&mut c, &waker, b"tail");
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(Pin::new(&mut c).poll_shutdown(&mut cx), Poll::Ready(Ok(()))));
        assert_eq!(c.io.writes.last().map(Vec::as_slice), Some(&b"tail"[..]));
        assert!(c.io.shutdown);
    }

    #[test]
    fn a_burst_does_not_keep_its_buffer() {
        let (_, waker) = cx();
        let mut c = Coalescing::new(Socket::default());
        for _ in 0..100 {
            write(&mut c, &waker, &[1u8; 500]);
        }
        assert!(flush(&mut c, &waker).is_pending());
        assert!(matches!(flush(&mut c, &waker), Poll::Ready(Ok(()))));
        assert_eq!(c.io.writes.concat().len(), 50_000);
        assert!(c.held.capacity() <= KEEP_CAPACITY, "an idle connection keeps at most {KEEP_CAPACITY} bytes");
    }
}
