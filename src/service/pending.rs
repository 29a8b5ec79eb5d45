//! Services whose issues have not landed yet (matching workflow, arrangements, reports):
//! they authenticate like every other method and answer UNIMPLEMENTED.

use super::*;
use crate::api as pb;
use crate::api::arrangement_service_server::ArrangementService;
use crate::api::matching_service_server::MatchingService;
use crate::api::report_service_server::ReportService;
use tonic::{Request, Response, Status};

fn pending<T, R>(req: &Request<T>, method: &str) -> Result<Response<R>, Status> {
    caller(req)?;
    Err(AppError::Unimplemented(format!("{method} is not implemented yet")).into())
}

#[tonic::async_trait]
impl MatchingService for Ctx {
    async fn propose_matches(
        &self,
        req: Request<pb::ProposeMatchesRequest>,
    ) -> Result<Response<pb::ProposeMatchesResponse>, Status> {
        pending(&req, "propose_matches")
    }

    async fn get_match(&self, req: Request<pb::GetMatchRequest>) -> Result<Response<pb::Match>, Status> {
        pending(&req, "get_match")
    }

    async fn list_matches(
        &self,
        req: Request<pb::ListMatchesRequest>,
    ) -> Result<Response<pb::ListMatchesResponse>, Status> {
        pending(&req, "list_matches")
    }

    async fn approve_match(
        &self,
        req: Request<pb::ApproveMatchRequest>,
    ) -> Result<Response<pb::ApproveMatchResponse>, Status> {
        pending(&req, "approve_match")
    }

    async fn reject_match(&self, req: Request<pb::RejectMatchRequest>) -> Result<Response<pb::Match>, Status> {
        pending(&req, "reject_match")
    }

    async fn explain_need(
        &self,
        req: Request<pb::ExplainNeedRequest>,
    ) -> Result<Response<pb::ExplainNeedResponse>, Status> {
        pending(&req, "explain_need")
    }
}

#[tonic::async_trait]
impl ArrangementService for Ctx {
    async fn get_arrangement(
        &self,
        req: Request<pb::GetArrangementRequest>,
    ) -> Result<Response<pb::Arrangement>, Status> {
        pending(&req, "get_arrangement")
    }

    async fn list_arrangements(
        &self,
        req: Request<pb::ListArrangementsRequest>,
    ) -> Result<Response<pb::ListArrangementsResponse>, Status> {
        pending(&req, "list_arrangements")
    }

    async fn respond_to_arrangement(
        &self,
        req: Request<pb::RespondToArrangementRequest>,
    ) -> Result<Response<pb::Arrangement>, Status> {
        pending(&req, "respond_to_arrangement")
    }

    async fn transition_arrangement(
        &self,
        req: Request<pb::TransitionArrangementRequest>,
    ) -> Result<Response<pb::Arrangement>, Status> {
        pending(&req, "transition_arrangement")
    }

    async fn record_outcome(
        &self,
        req: Request<pb::RecordOutcomeRequest>,
    ) -> Result<Response<pb::Arrangement>, Status> {
        pending(&req, "record_outcome")
    }
}

#[tonic::async_trait]
impl ReportService for Ctx {
    async fn get_gap_report(
        &self,
        req: Request<pb::GetGapReportRequest>,
    ) -> Result<Response<pb::GetGapReportResponse>, Status> {
        pending(&req, "get_gap_report")
    }

    async fn get_deconfliction_report(
        &self,
        req: Request<pb::GetDeconflictionReportRequest>,
    ) -> Result<Response<pb::GetDeconflictionReportResponse>, Status> {
        pending(&req, "get_deconfliction_report")
    }

    async fn get_gender_report(
        &self,
        req: Request<pb::GetGenderReportRequest>,
    ) -> Result<Response<pb::GetGenderReportResponse>, Status> {
        pending(&req, "get_gender_report")
    }
}
