//! Needs and offers alike: what member states file and then update or withdraw. One
//! update path and one withdraw path serve both ([`update`], [`withdraw`]); each resource
//! says what differs ([`Filed`]).

use super::*;
use tonic::{Response, Status};

/// A need or an offer, as the shared update and withdraw paths see it.
pub(super) trait Filed: crate::store::Record + Clone + Filing {
    type Proto: super::write_call::Remembered;
    const UPDATED: EventKind;
    const WITHDRAWN: EventKind;
    /// Whether an update mask may name `path` (else why not).
    fn check_path(path: &str) -> Result<(), String>;
    fn to_proto(&self) -> Self::Proto;
    fn into_event(self) -> EventResource;
    /// The stored resource `id` that `caller` may change: NOT_FOUND if it may not read
    /// it, PERMISSION_DENIED if it may read but not change it.
    fn changeable(store: &Store, caller: &Caller, id: Id) -> AppResult<Self>;
    /// `current` with the fields of `merged` (its message with the mask's fields taken
    /// from the request), validated at `now` and held to API.md's update rules.
    fn updated(store: &Store, current: &Self, merged: &Self::Proto, now: UnixMicros) -> AppResult<Self>;
    /// Copies field `path` of `src` into `dst`.
    fn copy_field(dst: &mut Self::Proto, src: &Self::Proto, path: &str);
}

/// One violation per bad entry of an update mask ([`Violations::update_mask`]).
fn check_mask<R: Filed>(paths: &[String]) -> AppResult<()> {
    let mut v = Violations::default();
    v.update_mask(paths, R::check_path);
    v.finish(())
}

/// Update{Need,Offer}: the fields the mask names, from `body`, on the stored resource
/// `body_id` (at `etag`); its PROPOSED matches turn STALE and its refusals are forgotten
/// in the same commit.
pub(super) async fn update<R: Filed>(
    store: &Store,
    call: WriteCall,
    body: R::Proto,
    body_id: &str,
    etag: &str,
    paths: Vec<String>,
) -> Result<Response<R::Proto>, Status> {
    checked!(call, store, check_mask::<R>(&paths));
    let id = checked!(call, store, parse_id(R::KIND, body_id));
    change::<R>(store, call, id, etag, R::UPDATED, |current, ws, now, actor| {
        commands::check_open(&current, true)?;
        super::workflow::resource_updated(store, ws, R::KIND, id, now, actor)?;
        let mut merged = current.to_proto();
        for p in &paths {
            R::copy_field(&mut merged, &body, p);
        }
        R::updated(store, &current, &merged, now)
    })
    .await
}

/// Withdraw{Need,Offer}: the stored resource `raw_id` (at `etag`) is withdrawn.
pub(super) async fn withdraw<R: Filed>(
    store: &Store,
    call: WriteCall,
    raw_id: &str,
    etag: &str,
) -> Result<Response<R::Proto>, Status> {
    let id = checked!(call, store, parse_id(R::KIND, raw_id));
    change::<R>(store, call, id, etag, R::WITHDRAWN, |current, _, now, _| Ok(commands::withdraw(current, now)?)).await
}

/// The write path both share: under the writer gate, the stored resource `id` that the
/// caller may change, at `etag`; `next` makes its new version (or refuses), which is
/// stored with an event of `kind` and answered.
async fn change<R: Filed>(
    store: &Store,
    call: WriteCall,
    id: Id,
    etag: &str,
    kind: EventKind,
    next: impl FnOnce(R, &mut WriteSet, UnixMicros, &str) -> AppResult<R>,
) -> Result<Response<R::Proto>, Status> {
    let caller = call.caller().clone();
    let answer = call
        .commit(store, |_, ws, now| {
            let current = R::changeable(store, &caller, id)?;
            check_etag(etag, current.meta())?;
            let next = next(current, ws, now, &caller.principal_id)?;
            ws.put_record(&next);
            let out = next.to_proto();
            ws.event(kind, now, &caller.principal_id, next.into_event());
            Ok(out)
        })
        .await?;
    Ok(Response::new(answer))
}
