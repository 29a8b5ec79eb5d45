//! ReportService: gap, deconfliction, gender, lasting-capacity and readiness reports.
//!
//! Each report reads one consistent state: the records are read while holding the
//! store's writer gate (no write can commit meanwhile), the gate is released, and the
//! figures are computed by the pure `crate::reports` module. Reading and computing run
//! on the blocking pool, so a large store does not stall the async workers.

pub mod at_risk;

use super::*;
use crate::api as pb;
use crate::api::report_service_server::ReportService;
use crate::convert;
use crate::reports::{self, GapGrouping, Snapshot};
use tonic::{Request, Response, Status};

const MICROS_PER_DAY: i64 = SECONDS_PER_DAY * MICROS_PER_SECOND;

/// Which trees a report reads besides the needs.
#[derive(Clone, Copy)]
struct Reads {
    offers: bool,
    arrangements: bool,
    centres: bool,
}

/// Reads the needs (and what `reads` asks for) as one state, under the writer gate.
fn read_snapshot(store: &Store, reads: Reads) -> AppResult<(Snapshot, Vec<TrainingCentre>)> {
    let _gate = store.writer()?;
    let today = day_of_micros(now_micros());
    let needs = store.scan::<Need>(None).collect::<Result<Vec<_>, _>>()?;
    let offers = if reads.offers { store.scan::<Offer>(None).collect::<Result<Vec<_>, _>>()? } else { Vec::new() };
    let arrangements =
        if reads.arrangements { store.scan::<Arrangement>(None).collect::<Result<Vec<_>, _>>()? } else { Vec::new() };
    let centres =
        if reads.centres { store.scan::<TrainingCentre>(None).collect::<Result<Vec<_>, _>>()? } else { Vec::new() };
    Ok((Snapshot { today, needs, offers, arrangements }, centres))
}

/// Takes a snapshot and computes `report` from it on the blocking pool.
async fn compute<T: Send + 'static>(
    store: &Store,
    reads: Reads,
    report: impl FnOnce(&Snapshot, &[TrainingCentre]) -> T + Send + 'static,
) -> AppResult<T> {
    let store = store.clone();
    on_blocking_pool(move || {
        let (snapshot, centres) = read_snapshot(&store, reads)?;
        Ok(report(&snapshot, &centres))
    })
    .await
}

/// Runs `read` on the blocking pool, so a large store does not stall the async workers.
async fn on_blocking_pool<T: Send + 'static>(read: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(read).await.map_err(|e| AppError::Internal(format!("report task failed: {e}")))?
}

/// Folds every need, read as one state under the writer gate, into `tally` (made for the
/// day of the read) on the blocking pool: a report that needs each need only once never
/// holds them all (100 000 needs are some 50 MiB as records).
async fn tally_needs<T: Send + 'static>(
    store: &Store,
    tally: impl FnOnce(Day) -> T + Send + 'static,
    add: impl Fn(&mut T, &Need) + Send + 'static,
) -> AppResult<T> {
    let store = store.clone();
    on_blocking_pool(move || {
        let _gate = store.writer()?;
        let mut t = tally(day_of_micros(now_micros()));
        for need in store.scan::<Need>(None) {
            add(&mut t, &need?);
        }
        Ok(t)
    })
    .await
}

/// The mechanism's headline figures (the metrics gauges). Reads every need and
/// arrangement, one at a time: call it off the async workers.
///
/// Unlike the reports, it does not take the writer gate: a scrape never holds writers
/// (at 100 000 needs the read takes about 115 ms, and under the gate every write waited
/// that long). Each record is read whole, as some commit left it; writes made during the
/// read may be counted or not, as for any sampled gauge. Each figure rests on one table
/// (seats and needs at risk on the needs, consents on the arrangements).
pub fn mechanism_figures(store: &Store, horizons: &reports::RiskHorizons) -> AppResult<reports::MechanismFigures> {
    let mut figures = reports::FiguresTally::new(day_of_micros(now_micros()), horizons);
    for need in store.scan::<Need>(None) {
        figures.add_need(&need?);
    }
    for arrangement in store.scan::<Arrangement>(None) {
        figures.add_arrangement(&arrangement?);
    }
    Ok(figures.figures())
}

fn gap_row_to_proto(r: reports::GapRow) -> pb::GapRow {
    pb::GapRow {
        key: r.key,
        needed: r.needed,
        women_needed: r.women_needed,
        reserved: r.reserved,
        delivered: r.delivered,
        open: r.open,
        critical_open: r.critical_open,
        overdue: r.overdue,
    }
}

fn finding_to_proto(f: reports::Finding) -> pb::DeconflictionFinding {
    pb::DeconflictionFinding {
        recipient: f.recipient.to_string(),
        category: convert::category_to(f.category),
        capability: convert::capability_to(f.capability),
        resource_ids: f.resource_ids,
        // The start of the first day and the last instant of the last day.
        overlap_start: Some(convert::timestamp(f.first_day.saturating_mul(MICROS_PER_DAY))),
        overlap_end: Some(convert::timestamp(f.last_day.saturating_add(1).saturating_mul(MICROS_PER_DAY) - 1)),
        summary: f.summary,
    }
}

fn capacity_row_to_proto(r: reports::CapacityRow) -> pb::CapacityRow {
    pb::CapacityRow {
        requester: r.requester.to_string(),
        seats_delivered: r.seats_delivered,
        in_country_seats: r.in_country_seats,
        in_country_share: r.in_country_share,
        trainers_qualified: r.trainers_qualified,
        national_centres: r.national_centres,
        un_recognized_centres: r.un_recognized_centres,
        repeat_capabilities: r.repeat_capabilities.into_iter().map(convert::capability_to).collect(),
    }
}

fn gender_row_to_proto(r: reports::GenderRow) -> pb::GenderRow {
    pb::GenderRow {
        requester: r.requester,
        women_needed: r.women_needed,
        women_reserved: r.women_reserved,
        women_trained: r.women_trained,
        seats_total: r.seats_total,
        women_share: r.women_share,
        target_share: r.target_share,
        below_target: r.below_target,
    }
}

#[tonic::async_trait]
impl ReportService for Services {
    async fn get_gap_report(
        &self,
        req: Request<pb::GetGapReportRequest>,
    ) -> Result<Response<pb::GetGapReportResponse>, Status> {
        let caller = caller(&req)?;
        caller.refuse_centres("training centres do not read gap reports")?;
        let grouping = match pb::GapGrouping::try_from(req.get_ref().group_by) {
            Ok(pb::GapGrouping::Capability) => GapGrouping::Capability,
            Ok(pb::GapGrouping::Requester) => GapGrouping::Requester,
            _ => return Err(AppError::invalid("group_by", "must be CAPABILITY or REQUESTER").into()),
        };
        let mut rows = tally_needs(&self.store, move |today| reports::GapTally::new(grouping, today), |t, n| t.add(n))
            .await?
            .rows();
        // A state reads its own requester row; capability rows name no requester.
        if let (Some(state), GapGrouping::Requester) = (caller.state(), grouping) {
            rows.retain(|r| r.key == state.as_str());
        }
        tracing::debug!(rows = rows.len(), "gap report");
        Ok(Response::new(pb::GetGapReportResponse { rows: rows.into_iter().map(gap_row_to_proto).collect() }))
    }

    async fn get_deconfliction_report(
        &self,
        req: Request<pb::GetDeconflictionReportRequest>,
    ) -> Result<Response<pb::GetDeconflictionReportResponse>, Status> {
        caller(&req)?.require_secretariat()?;
        let reads = Reads { offers: true, arrangements: true, centres: false };
        let findings = compute(&self.store, reads, |s, _| reports::deconfliction_findings(s)).await?;
        tracing::debug!(findings = findings.len(), "deconfliction report");
        Ok(Response::new(pb::GetDeconflictionReportResponse {
            findings: findings.into_iter().map(finding_to_proto).collect(),
        }))
    }

    async fn get_gender_report(
        &self,
        req: Request<pb::GetGenderReportRequest>,
    ) -> Result<Response<pb::GetGenderReportResponse>, Status> {
        caller(&req)?.require_secretariat()?;
        let targets = self.gender_targets.clone();
        let reads = Reads { offers: false, arrangements: true, centres: false };
        let report = compute(&self.store, reads, move |s, _| reports::gender_report(s, &targets)).await?;
        Ok(Response::new(pb::GetGenderReportResponse {
            rows: report.rows.into_iter().map(gender_row_to_proto).collect(),
            overall: Some(gender_row_to_proto(report.overall)),
        }))
    }

    async fn get_capacity_report(
        &self,
        req: Request<pb::GetCapacityReportRequest>,
    ) -> Result<Response<pb::GetCapacityReportResponse>, Status> {
        let caller = caller(&req)?;
        caller.refuse_centres("training centres do not read capacity reports")?;
        let reads = Reads { offers: true, arrangements: true, centres: true };
        let mut rows = compute(&self.store, reads, reports::capacity_rows).await?;
        // A state reads its own row only.
        if let Some(state) = caller.state() {
            rows.retain(|r| r.requester == state);
        }
        tracing::debug!(rows = rows.len(), "capacity report");
        Ok(Response::new(pb::GetCapacityReportResponse { rows: rows.into_iter().map(capacity_row_to_proto).collect() }))
    }

    async fn get_readiness_report(
        &self,
        req: Request<pb::GetReadinessReportRequest>,
    ) -> Result<Response<pb::GetReadinessReportResponse>, Status> {
        let caller = caller(&req)?;
        caller.refuse_centres("training centres do not read readiness reports")?;
        let store = self.store.clone();
        let view = self.match_view.clone();
        let horizons = self.risk_horizons;
        let rows = tokio::task::spawn_blocking(move || -> AppResult<Vec<reports::ReadinessRow>> {
            // One consistent state: the needs and the matching view (which follows the
            // commits under the gate) read under the gate.
            let gate = store.writer()?;
            let today = day_of_micros(now_micros());
            let needs = store.scan::<Need>(None).collect::<Result<Vec<_>, _>>()?;
            let mut compatible = std::collections::BTreeMap::new();
            for n in needs.iter().filter(|n| reports::readiness_status(n, today, &horizons).is_some()) {
                let Some((explained, _)) = view.explain(n.meta.id, today, None)? else { continue };
                let count = explained.iter().filter(|c| c.compatible).count();
                compatible.insert(n.meta.id, u32::try_from(count).unwrap_or(u32::MAX));
            }
            drop(gate);
            Ok(reports::readiness_rows(&needs, today, &horizons, &compatible))
        })
        .await
        .map_err(|e| AppError::Internal(format!("report task failed: {e}")))??;
        let state = caller.state();
        let rows: Vec<pb::ReadinessRow> = rows
            .into_iter()
            // A state reads the rows of its own needs.
            .filter(|r| state.is_none_or(|s| r.requester == s))
            .map(|r| pb::ReadinessRow {
                need_id: r.need.render(Kind::Need),
                requester: r.requester.to_string(),
                capability: convert::capability_to(r.capability),
                pledge_level: r.pledge_level.map_or(0, convert::level_to),
                needed_by: Some(convert::timestamp(r.needed_by)),
                days_left: r.days_left,
                open: r.open,
                compatible_offers: r.compatible_offers,
                status: match r.status {
                    reports::ReadinessStatus::AtRisk => pb::ReadinessStatus::AtRisk as i32,
                    reports::ReadinessStatus::Overdue => pb::ReadinessStatus::Overdue as i32,
                },
            })
            .collect();
        tracing::debug!(rows = rows.len(), "readiness report");
        Ok(Response::new(pb::GetReadinessReportResponse { rows }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scrape's figures come while a writer holds the gate: they never wait for it.
    #[test]
    fn the_mechanism_figures_are_read_without_the_writer_gate() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let config = crate::store::StoreConfig::durable(8 << 20);
        let store = Store::open(dir.path(), &config).unwrap_or_else(|e| panic!("{e}"));
        let gate = store.writer().unwrap_or_else(|e| panic!("{e}"));
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = store.clone();
        let thread = std::thread::spawn(move || {
            let _ = tx.send(mechanism_figures(&reader, &reports::RiskHorizons::default()).is_ok());
        });
        let read = rx.recv_timeout(std::time::Duration::from_secs(10));
        drop(gate);
        thread.join().unwrap_or_else(|_| panic!("the reading thread panicked"));
        assert_eq!(read, Ok(true), "the figures waited for the writer gate");
    }
}
