#!/usr/bin/env python3
"""Checks examples/training_centre.py against a real server (run by check-centre-example.sh).

Starts `lcm serve --demo` on a fresh store, approves every proposed match, creates a
principal for the centre that hosts the most arrangements (A), and drives arrangements
of A and of another centre (B). The example, run as A in several pieces with a server
restart in between, must print exactly A's ARRANGEMENT_CHANGED and OUTCOME_RECORDED
events in sequence order, none of B's, with no gap and no repeat across restarts; the
outcome it records must show in the gender report.

usage: check_centre_example.py LCM_BINARY
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "training_centre.py")

spec = importlib.util.spec_from_file_location("training_centre", EXAMPLE)
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)
pb, res, rpc = example.load_stubs(os.path.join(ROOT, "proto"))

import grpc  # noqa: E402  (after the stubs, which the example loads)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, data, port):
        self.binary, self.data, self.port = binary, data, port
        self.proc = None

    def start(self, demo):
        log = open(os.path.join(self.data, "server.log"), "a")
        args = [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--console-listen", "off", "--data-dir",
                os.path.join(self.data, "store")]
        if demo:
            args.append("--demo")
        self.out = os.path.join(self.data, "banner.txt")
        self.proc = subprocess.Popen(args, stdout=open(self.out, "w"), stderr=log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if demo and "Try, as the Secretariat" in open(self.out).read():
                return
            if not demo:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    return
                except OSError:
                    pass
            if self.proc.poll() is not None:
                sys.exit(f"server exited early; see {self.data}/server.log")
            time.sleep(0.1)
        sys.exit("server did not start in time")

    def stop(self):
        self.proc.terminate()
        if self.proc.wait(timeout=30) != 0:
            sys.exit("server did not shut down cleanly")


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


def main():
    data = tempfile.mkdtemp(prefix="lcm-centre-check-")
    server = Server(sys.argv[1], data, free_port())
    try:
        run(server)
    finally:
        if server.proc and server.proc.poll() is None:
            server.proc.kill()
        shutil.rmtree(data, ignore_errors=True)


def run(server):
    data = server.data
    addr = f"127.0.0.1:{server.port}"
    server.start(demo=True)
    admin = open(os.path.join(data, "store", "admin.token")).read().strip()
    channel = grpc.insecure_channel(addr)
    md = (("authorization", f"Bearer {admin}"),)
    matching = rpc.MatchingServiceStub(channel)
    arrs = rpc.ArrangementServiceStub(channel)
    admin_svc = rpc.AdminServiceStub(channel)
    # The demo's own history may already hold outcomes: the example's must add to them.
    before = rpc.ReportServiceStub(channel).GetGenderReport(pb.GetGenderReportRequest(), metadata=md)
    trained_before = {r.requester: r.women_trained for r in before.rows}

    proposed = matching.ProposeMatches(pb.ProposeMatchesRequest(), metadata=md)
    for m in proposed.matches:
        matching.ApproveMatch(pb.ApproveMatchRequest(id=m.id, etag=m.etag), metadata=md)
    listed = arrs.ListArrangements(pb.ListArrangementsRequest(page_size=500), metadata=md).arrangements
    by_centre = {}
    for a in listed:
        if a.training_centre_id:
            by_centre.setdefault(a.training_centre_id, []).append(a)
    ranked = sorted(by_centre, key=lambda c: (-len(by_centre[c]), c))
    check(len(ranked) >= 2, f"arrangements at two centres or more: {ranked}")
    centre_a, centre_b = ranked[0], ranked[1]

    def principal(kind, state="", centre=""):
        r = admin_svc.CreatePrincipal(pb.CreatePrincipalRequest(
            kind=res.PrincipalKind.Value(kind), member_state=state, training_centre_id=centre,
            display_name=f"check {state}{centre}"), metadata=md)
        return r.token

    token_a = principal("PRINCIPAL_KIND_TRAINING_CENTRE", centre=centre_a)
    state_tokens = {}

    def consent_all(a):
        for c in a.consents:
            if c.state not in state_tokens:
                state_tokens[c.state] = principal("PRINCIPAL_KIND_MEMBER_STATE", state=c.state)
            arrs.RespondToArrangement(pb.RespondToArrangementRequest(id=a.id, accept=True),
                                      metadata=(("authorization", f"Bearer {state_tokens[c.state]}"),))

    def move(a_id, to, start=None, end=None):
        req = pb.TransitionArrangementRequest(id=a_id, to=res.ArrangementStatus.Value(f"ARRANGEMENT_STATUS_{to}"))
        if start is not None:
            req.scheduled_start.seconds = start
            req.scheduled_end.seconds = end
        return arrs.TransitionArrangement(req, metadata=md)

    state_file = os.path.join(data, "centre.state")
    seen = []

    def run_example(*extra):
        env = dict(os.environ, LCM_TOKEN=token_a)
        out = subprocess.run([sys.executable, EXAMPLE, "--addr", addr, *extra], env=env,
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            sys.exit(f"FAILED: the example {' '.join(extra)} exited {out.returncode}:\n{out.stderr}")
        return out.stdout

    def watch(*limits):
        out = run_example("watch", "--state-file", state_file, "--jsonl", *limits)
        got = [json.loads(line) for line in out.splitlines() if line.strip()]
        seen.extend(got)
        return got

    def expected():
        """A's events by the Secretariat's ListEvents, filtered by the visibility rule."""
        events, token = [], ""
        kinds = [res.EventKind.Value(k) for k in example.KINDS]
        while True:
            page = rpc.EventServiceStub(channel).ListEvents(
                pb.ListEventsRequest(kinds=kinds, page_size=500, page_token=token), metadata=md)
            events += [e for e in page.events if e.arrangement.training_centre_id == centre_a]
            token = page.next_page_token
            if not token:
                return [(e.sequence, e.arrangement.id) for e in events]

    # 1. The approvals' events, in two runs: a stop after 2 events, then the rest.
    first = watch("--max-events", "2")
    check(len(first) == 2, "the first run stops after --max-events 2")
    watch("--until-idle", "3")
    check([(e["sequence"], e["arrangement_id"]) for e in seen] == expected(),
          f"after the approvals, exactly {len(expected())} events of {centre_a}'s arrangements, in order")

    # 2. Drive one arrangement of each centre; restart the server in between.
    a = by_centre[centre_a][0]
    b = by_centre[centre_b][0]
    consent_all(a)
    consent_all(b)
    move(b.id, "CANCELLED")
    offers = rpc.OfferServiceStub(channel)
    o = offers.GetOffer(pb.GetOfferRequest(id=a.allocation.offer_id), metadata=md)
    start = (o.available_from.seconds // 86400 + 1) * 86400
    move(a.id, "SCHEDULED", start, start + o.duration_days * 86400)
    server.stop()
    server.start(demo=False)
    channel = grpc.insecure_channel(addr)
    arrs = rpc.ArrangementServiceStub(channel)
    move(a.id, "IN_DELIVERY")
    women = min(a.women_quantity, a.quantity) or 1
    out = run_example("outcome", a.id, "--trained", str(a.quantity), "--women-trained", str(women),
                      "--certified", str(a.quantity), "--mission", "MINUSCA")
    check("outcome recorded" in out, "the example records an outcome as the centre")
    move(a.id, "COMPLETED")

    # 3. Resume after the restart: exactly the rest, nothing twice, nothing of B's.
    watch("--until-idle", "3")
    want = expected()
    got = [(e["sequence"], e["arrangement_id"]) for e in seen]
    check(got == want, f"after a restart the example resumes with no gap and no repeat ({len(got)} events)")
    check(len({s for s, _ in got}) == len(got), "no event twice")
    b_ids = {x.id for x in by_centre[centre_b]}
    check(not any(e["arrangement_id"] in b_ids for e in seen), f"none of {centre_b}'s events")
    check(all(e["training_centre_id"] == centre_a for e in seen), f"every event is of an arrangement at {centre_a}")
    kinds = [e["kind"] for e in seen if e["arrangement_id"] == a.id]
    check("OUTCOME_RECORDED" in kinds and seen[-1]["status"] == "COMPLETED", "the outcome and completion are seen")
    check(watch("--until-idle", "2") == [], "a further run has nothing new")

    # 4. The recorded outcome appears in the gender report.
    g = rpc.ReportServiceStub(channel).GetGenderReport(pb.GetGenderReportRequest(), metadata=md)
    row = [r for r in g.rows if r.requester == a.recipient]
    check(row and row[0].women_trained == trained_before.get(a.recipient, 0) + women
          and g.overall.women_trained == before.overall.women_trained + women,
          f"the gender report counts the {women} women trained for {a.recipient} "
          f"(on top of the {before.overall.women_trained} the demo had)")
    server.stop()
    print("centre example check passed")


if __name__ == "__main__":
    main()
