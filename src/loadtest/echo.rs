//! The baseline: `lcm.echo.v1.EchoService`, a unary call answered from memory with a
//! fixed payload (no auth, no store), served by the `lcm-echo` binary and driven by
//! `lcm loadtest --workload echo`. Its throughput and latency are the practical limit of
//! tonic on this machine; lcm's figures are read as a ratio to it.

use std::future::Future;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

/// Generated code of `proto/lcm/echo/v1/echo.proto`.
pub mod pb {
    #![allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]
    tonic::include_proto!("lcm.echo.v1");
}

/// Default reply size: about the encoded size of the `GetNeed` answer that the `get-need`
/// workload reads (193 bytes measured against a real server for `sample_need`; the test
/// `echo_default_reply_is_the_size_of_a_get_need_answer` keeps the two within 25%).
pub const DEFAULT_REPLY_BYTES: usize = 200;

/// The service: every call gets a clone of the same reply.
#[derive(Debug, Clone)]
pub struct Echo {
    reply: pb::EchoResponse,
}

impl Echo {
    /// An echo whose encoded reply is `reply_bytes` long, or one byte shorter where the
    /// payload's length prefix makes that size impossible (e.g. 130); below 3, empty.
    pub fn new(reply_bytes: usize) -> Echo {
        let mut len = reply_bytes;
        // Field tag (1 byte) + length varint + payload = reply_bytes.
        while len > 0 && 1 + prost::length_delimiter_len(len) + len > reply_bytes {
            len -= 1;
        }
        Echo { reply: pb::EchoResponse { payload: vec![b'x'; len] } }
    }

    /// The encoded size of the reply.
    pub fn reply_len(&self) -> usize {
        prost::Message::encoded_len(&self.reply)
    }
}

#[tonic::async_trait]
impl pb::echo_service_server::EchoService for Echo {
    async fn echo(&self, _request: Request<pb::EchoRequest>) -> Result<Response<pb::EchoResponse>, Status> {
        Ok(Response::new(self.reply.clone()))
    }
}

/// Serves `echo` on `listener` until `shutdown` resolves, with tonic's default server
/// settings: the stock baseline. `lcm serve`'s transport differs: Nagle's algorithm is off
/// on its accepted connections and their flushes are gathered (`server.rs`, `coalesce.rs`).
pub async fn serve(
    echo: Echo,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(pb::echo_service_server::EchoServiceServer::new(echo))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_has_the_requested_size() {
        for n in [3, 100, 127, 128, 129, 131, 200, 400, 20_000] {
            assert_eq!(Echo::new(n).reply_len(), n, "size {n}");
        }
        // 130 bytes cannot be encoded (the length varint grows at 128): one byte less.
        assert_eq!(Echo::new(130).reply_len(), 129);
        assert_eq!(Echo::new(0).reply_len(), 0);
    }
}
