//! Server reflection serves the google.rpc error-detail messages, so generic clients
//! (grpcurl, grpcui) decode ErrorInfo and BadRequest instead of "is not recognized".

use crate::harness::*;
use prost::Message;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

/// One reflection question, answered over a real socket without a token.
async fn ask(s: &TestServer, question: MessageRequest) -> ServerReflectionResponse {
    let mut client = ServerReflectionClient::new(s.channel().await);
    let req = ServerReflectionRequest { host: String::new(), message_request: Some(question) };
    let mut stream = client.server_reflection_info(tokio_stream::iter(vec![req])).await.unwrap().into_inner();
    stream.message().await.unwrap().unwrap()
}

/// The files a reflection answer carries (their names and message names).
fn files(r: &ServerReflectionResponse) -> Vec<prost_types::FileDescriptorProto> {
    match &r.message_response {
        Some(MessageResponse::FileDescriptorResponse(f)) => f
            .file_descriptor_proto
            .iter()
            .map(|b| prost_types::FileDescriptorProto::decode(b.as_slice()).unwrap())
            .collect(),
        other => panic!("no file descriptors: {other:?}"),
    }
}

#[tokio::test]
async fn reflection_serves_the_google_rpc_error_details() {
    let s = TestServer::start().await;
    for symbol in ["google.rpc.ErrorInfo", "google.rpc.BadRequest", "google.rpc.BadRequest.FieldViolation"] {
        let answer = ask(&s, MessageRequest::FileContainingSymbol(symbol.into())).await;
        let files = files(&answer);
        let details = files.iter().find(|f| f.name() == "google/rpc/error_details.proto");
        let details = details.unwrap_or_else(|| panic!("{symbol}: no google/rpc/error_details.proto"));
        let messages: Vec<&str> = details.message_type.iter().map(|m| m.name()).collect();
        assert!(messages.contains(&"ErrorInfo") && messages.contains(&"BadRequest"), "{messages:?}");
    }
    // Its import resolves too, so a client can build the whole descriptor.
    let answer = ask(&s, MessageRequest::FileByFilename("google/protobuf/duration.proto".into())).await;
    assert!(files(&answer).iter().any(|f| f.name() == "google/protobuf/duration.proto"));
}
