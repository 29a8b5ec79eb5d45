//! `lcm.v1.AdminService`: principals and their bearer tokens, and backups (Secretariat
//! only).

use super::*;
use crate::api as pb;
use crate::api::admin_service_server::AdminService;
use crate::auth;
use crate::convert;
use tonic::{Request, Response, Status};

/// Bytes of the backup file per `ExportBackupResponse`.
pub const BACKUP_CHUNK_BYTES: usize = 256 * 1024;

/// Creates a principal with a fresh token inside an open write; returns it and the token.
pub fn create_principal(
    w: &mut Writer<'_>,
    ws: &mut WriteSet,
    now: UnixMicros,
    actor: &str,
    role: Role,
    display_name: &str,
) -> (Principal, String) {
    let id = w.allocate_id(Kind::Principal);
    let (token, token_hash) = auth::new_token();
    let principal = Principal {
        meta: Meta::new(id, now),
        role,
        display_name: display_name.to_string(),
        revoked: false,
        token_hash,
    };
    ws.put_new_principal(&principal);
    ws.event(EventKind::PrincipalChanged, now, actor, EventResource::Principal(principal.clone()));
    (principal, token)
}

fn role_of(store: &Store, req: &pb::CreatePrincipalRequest) -> AppResult<Role> {
    let mut v = Violations::default();
    v.text("display_name", &req.display_name, 1, convert::limits::MAX_TITLE_CHARS, false);
    let kind = v.enum_value("kind", req.kind, |k| {
        pb::PrincipalKind::try_from(k).ok().filter(|k| *k != pb::PrincipalKind::Unspecified)
    });
    let role = match kind {
        Some(pb::PrincipalKind::Secretariat) => {
            for (field, set) in [
                ("member_state", !req.member_state.is_empty()),
                ("training_centre_id", !req.training_centre_id.is_empty()),
            ] {
                if set {
                    v.add(field, "must be empty for a SECRETARIAT principal");
                }
            }
            Some(Role::Secretariat)
        }
        Some(pb::PrincipalKind::MemberState) => {
            if !req.training_centre_id.is_empty() {
                v.add("training_centre_id", "must be empty for a MEMBER_STATE principal");
            }
            v.state("member_state", &req.member_state).map(Role::MemberState)
        }
        Some(pb::PrincipalKind::TrainingCentre) => {
            if !req.member_state.is_empty() {
                v.add("member_state", "must be empty for a TRAINING_CENTRE principal");
            }
            match Id::parse(Kind::Centre, &req.training_centre_id) {
                Some(id) if store.get::<TrainingCentre>(id)?.is_some() => Some(Role::TrainingCentre(id)),
                _ => {
                    v.add(
                        "training_centre_id",
                        format!("no training centre {:?} is registered", req.training_centre_id),
                    );
                    None
                }
            }
        }
        _ => None,
    };
    match role {
        Some(role) if v.is_empty() => Ok(role),
        _ => Err(AppError::InvalidArgument(v.0)),
    }
}

#[tonic::async_trait]
impl AdminService for Services {
    async fn create_principal(
        &self,
        req: Request<pb::CreatePrincipalRequest>,
    ) -> Result<Response<pb::CreatePrincipalResponse>, Status> {
        let caller = caller(&req)?;
        caller.require_secretariat()?;
        let req = req.into_inner();
        let call = WriteCall::new(&caller, "CreatePrincipal", &req.request_id, &req)?;
        let role = checked!(call, &self.store, role_of(&self.store, &req));
        let actor = caller.principal_id.clone();
        let response = call
            .commit(&self.store, |w, ws, now| {
                let (principal, token) = create_principal(w, ws, now, &actor, role, &req.display_name);
                Ok(pb::CreatePrincipalResponse { principal: Some(convert::principal_to_proto(&principal)), token })
            })
            .await?;
        tracing::info!(principal_id = %response.principal.as_ref().map(|p| p.id.as_str()).unwrap_or(""), "principal created");
        Ok(Response::new(response))
    }

    async fn list_principals(
        &self,
        req: Request<pb::ListPrincipalsRequest>,
    ) -> Result<Response<pb::ListPrincipalsResponse>, Status> {
        let caller = caller(&req)?;
        caller.require_secretariat()?;
        let req = req.into_inner();
        let pager = Pager::new(&self.store, req.page_size, &req.page_token, "ListPrincipals", &caller)?;
        let (principals, next_page_token) =
            pager.page(&self.store, self.store.scan::<Principal>(pager.after_id()), |p| p.meta.id.0, |_| true)?;
        Ok(Response::new(pb::ListPrincipalsResponse {
            principals: principals.iter().map(convert::principal_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn revoke_principal(
        &self,
        req: Request<pb::RevokePrincipalRequest>,
    ) -> Result<Response<pb::Principal>, Status> {
        let caller = caller(&req)?;
        caller.require_secretariat()?;
        let id = parse_id(Kind::Principal, &req.get_ref().id)?;
        let call = WriteCall::new(&caller, "RevokePrincipal", "", req.get_ref())?;
        let actor = caller.principal_id.clone();
        let principal = call
            .commit(&self.store, |_, ws, now| {
                let current = self.store.get::<Principal>(id)?.ok_or_else(|| not_found(Kind::Principal, id))?;
                if current.revoked {
                    return Ok(convert::principal_to_proto(&current));
                }
                let p = Principal { meta: current.meta.touched(now), revoked: true, ..current };
                ws.put_record(&p);
                let out = convert::principal_to_proto(&p);
                ws.event(EventKind::PrincipalChanged, now, &actor, EventResource::Principal(p));
                Ok(out)
            })
            .await?;
        self.auth.revoked();
        tracing::info!(principal_id = %principal.id, "principal revoked");
        Ok(Response::new(principal))
    }

    type ExportBackupStream =
        std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::ExportBackupResponse, Status>> + Send>>;

    /// A consistent snapshot (see `store::backup`), taken off the async runtime, then
    /// streamed in chunks; writers are held only while the snapshot is copied.
    async fn export_backup(
        &self,
        req: Request<pb::ExportBackupRequest>,
    ) -> Result<Response<Self::ExportBackupStream>, Status> {
        let caller = caller(&req)?;
        caller.require_secretariat()?;
        let store = self.store.clone();
        let started = std::time::Instant::now();
        let (file, info) = tokio::task::spawn_blocking(move || store.export_backup(now_micros()))
            .await
            .map_err(|e| AppError::Internal(format!("backup task: {e}")))?
            .map_err(|e| {
                tracing::error!(error = %e, "backup failed");
                AppError::Unavailable(e.to_string())
            })?;
        tracing::info!(
            principal_id = %caller.principal_id,
            bytes = info.total_bytes,
            last_event_sequence = info.last_event_sequence,
            sha256 = %info.sha256,
            snapshot_ms = started.elapsed().as_millis() as u64,
            "backup snapshot taken"
        );
        let total_bytes = file.len() as u64;
        let last_event_sequence = info.last_event_sequence;
        let file = std::sync::Arc::new(file);
        let chunks = file.len().div_ceil(BACKUP_CHUNK_BYTES);
        let stream = tokio_stream::iter((0..chunks).map(move |i| {
            let end = ((i + 1) * BACKUP_CHUNK_BYTES).min(file.len());
            Ok(pb::ExportBackupResponse {
                chunk: file[i * BACKUP_CHUNK_BYTES..end].to_vec(),
                total_bytes,
                last_event_sequence,
            })
        }));
        Ok(Response::new(Box::pin(stream)))
    }
}
