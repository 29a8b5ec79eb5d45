//! Services whose issues have not landed yet (reports):
//! they authenticate like every other method and answer UNIMPLEMENTED.

use super::*;
use crate::api as pb;
use crate::api::report_service_server::ReportService;
use tonic::{Request, Response, Status};

fn pending<T, R>(req: &Request<T>, method: &str) -> Result<Response<R>, Status> {
    caller(req)?;
    Err(AppError::Unimplemented(format!("{method} is not implemented yet")).into())
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
