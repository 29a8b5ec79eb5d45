//! `lcm.v1.TrainingCentreService`: partner training centres; registered by the
//! Secretariat, readable by every principal.

use super::*;
use crate::api as pb;
use crate::api::training_centre_service_server::TrainingCentreService;
use crate::convert;
use tonic::{Request, Response, Status};

#[tonic::async_trait]
impl TrainingCentreService for Ctx {
    async fn create_training_centre(
        &self,
        req: Request<pb::CreateTrainingCentreRequest>,
    ) -> Result<Response<pb::TrainingCentre>, Status> {
        let caller = caller(&req)?;
        require_secretariat(&caller)?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "CreateTrainingCentre", &req.request_id, &req)?;
        let body = checked!(
            call,
            &self.store,
            req.training_centre.as_ref().ok_or_else(|| AppError::invalid("training_centre", "is required"))
        );
        let spec = checked!(call, &self.store, convert::centre_spec(body, "training_centre"));
        let actor = caller.principal_id.clone();
        let centre = call
            .commit(
                &self.store,
                |w, ws, now| {
                    let id = w.allocate_id(Kind::Centre);
                    let centre = TrainingCentre { meta: Meta::new(id, now), spec };
                    ws.put_record(&centre);
                    let out = convert::centre_to_proto(&centre);
                    ws.event(EventKind::CentreRegistered, now, &actor, EventResource::Centre(centre));
                    Ok(out)
                },
                Clone::clone,
            )
            .await?;
        Ok(Response::new(centre))
    }

    async fn get_training_centre(
        &self,
        req: Request<pb::GetTrainingCentreRequest>,
    ) -> Result<Response<pb::TrainingCentre>, Status> {
        let _caller = caller(&req)?;
        let id = parse_id(Kind::Centre, &req.get_ref().id)?;
        let centre =
            self.store.get::<TrainingCentre>(id).map_err(AppError::from)?.ok_or_else(|| not_found(Kind::Centre, id))?;
        Ok(Response::new(convert::centre_to_proto(&centre)))
    }

    async fn list_training_centres(
        &self,
        req: Request<pb::ListTrainingCentresRequest>,
    ) -> Result<Response<pb::ListTrainingCentresResponse>, Status> {
        let caller = caller(&req)?;
        let req = req.into_inner();
        let pager = Pager::new(&self.store, req.page_size, &req.page_token, "ListTrainingCentres", &caller)?;
        let (centres, next_page_token) =
            pager.page(&self.store, self.store.scan::<TrainingCentre>(pager.after_id()), |c| c.meta.id.0, |_| true)?;
        Ok(Response::new(pb::ListTrainingCentresResponse {
            training_centres: centres.iter().map(convert::centre_to_proto).collect(),
            next_page_token,
        }))
    }
}
