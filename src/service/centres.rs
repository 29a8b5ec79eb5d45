//! `lcm.v1.TrainingCentreService`: partner training centres; registered and updated
//! (UN recognition granted or withdrawn) by the Secretariat, readable by every principal.

use super::*;
use crate::api as pb;
use crate::api::training_centre_service_server::TrainingCentreService;
use crate::convert;
use tonic::{Request, Response, Status};

/// The fields an UpdateTrainingCentre mask may name; `host_state` never changes.
const CENTRE_FIELDS: [&str; 4] = ["name", "languages", "capabilities", "un_recognized"];

/// Copies the masked `field` from `body` into `merged`.
fn copy_centre_field(merged: &mut pb::TrainingCentre, body: &pb::TrainingCentre, field: &str) {
    match field {
        "name" => merged.name.clone_from(&body.name),
        "languages" => merged.languages.clone_from(&body.languages),
        "capabilities" => merged.capabilities.clone_from(&body.capabilities),
        "un_recognized" => merged.un_recognized = body.un_recognized,
        _ => {}
    }
}

/// Whether an UpdateTrainingCentre mask may name `path` (else why not).
fn check_centre_path(path: &str) -> Result<(), String> {
    if path == "host_state" {
        Err(String::from("host_state never changes"))
    } else if CENTRE_FIELDS.contains(&path) {
        Ok(())
    } else {
        Err(format!("{path:?} is not a field of TrainingCentre that can be updated"))
    }
}

#[tonic::async_trait]
impl TrainingCentreService for Services {
    async fn update_training_centre(
        &self,
        req: Request<pb::UpdateTrainingCentreRequest>,
    ) -> Result<Response<pb::TrainingCentre>, Status> {
        let caller = caller(&req)?;
        caller.require_secretariat()?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "UpdateTrainingCentre", &req.request_id, &req)?;
        let body = req.training_centre.clone().unwrap_or_default();
        let paths: Vec<String> = req.update_mask.as_ref().map(|m| m.paths.clone()).unwrap_or_default();
        let mut v = Violations::default();
        v.update_mask(&paths, check_centre_path);
        checked!(call, &self.store, v.finish(()));
        let id = checked!(call, &self.store, parse_id(Kind::Centre, &body.id));
        let actor = caller.principal_id.clone();
        let store = &self.store;
        let centre = call
            .commit(store, |_, ws, now| {
                let current = store.get::<TrainingCentre>(id)?.ok_or_else(|| not_found(Kind::Centre, id))?;
                check_etag(&body.etag, &current.meta)?;
                let mut merged = convert::centre_to_proto(&current);
                for p in &paths {
                    copy_centre_field(&mut merged, &body, p);
                }
                let spec = convert::centre_spec(&merged, "training_centre")?;
                let centre = commands::update_centre(&current, spec, now)?;
                ws.put_record(&centre);
                let out = convert::centre_to_proto(&centre);
                tracing::info!(centre_id = %out.id, un_recognized = out.un_recognized, "training centre updated");
                ws.event(EventKind::CentreUpdated, now, &actor, EventResource::Centre(centre));
                Ok(out)
            })
            .await?;
        Ok(Response::new(centre))
    }

    async fn create_training_centre(
        &self,
        req: Request<pb::CreateTrainingCentreRequest>,
    ) -> Result<Response<pb::TrainingCentre>, Status> {
        let caller = caller(&req)?;
        caller.require_secretariat()?;
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
            .commit(&self.store, |w, ws, now| {
                let centre = commands::register_centre(w.allocate_id(Kind::Centre), spec, now);
                ws.put_record(&centre);
                let out = convert::centre_to_proto(&centre);
                ws.event(EventKind::CentreRegistered, now, &actor, EventResource::Centre(centre));
                Ok(out)
            })
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
