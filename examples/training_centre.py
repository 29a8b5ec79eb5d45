#!/usr/bin/env python3
"""A partner training centre's integration with lcm, in one small program.

It authenticates with a TRAINING_CENTRE token, follows the arrangements the centre hosts
through EventService.WatchEvents (kinds ARRANGEMENT_CHANGED and OUTCOME_RECORDED), and
saves the last sequence it handled to a state file after each event, so a restart
resumes exactly where it stopped: nothing missed, nothing repeated. It can also list the
hosted arrangements and record a course's outcome (ArrangementService.RecordOutcome).

Stubs are generated at run time from the repository's proto/ with grpcio-tools into a
temporary directory, so nothing generated is checked in.

    pip install grpcio grpcio-tools protobuf
    export LCM_TOKEN=...                      # the centre principal's token
    python3 examples/training_centre.py --addr 127.0.0.1:50051 watch --state-file ipstc.state
    python3 examples/training_centre.py --addr 127.0.0.1:50051 list
    python3 examples/training_centre.py --addr 127.0.0.1:50051 outcome arrangement-7 \\
        --trained 12 --women-trained 5 --certified 11 --mission MINUSCA

`watch` runs until interrupted, or exits by itself with --until-idle SECONDS (no event for
that long) or --max-events N. With --jsonl it prints one JSON object per event.
"""

import argparse
import datetime
import importlib
import json
import os
import sys
import tempfile
import threading
import time
import uuid

import grpc

KINDS = ("EVENT_KIND_ARRANGEMENT_CHANGED", "EVENT_KIND_OUTCOME_RECORDED")


def load_stubs(proto_root):
    """Compiles proto_root/lcm/v1/*.proto into a temporary directory and imports it."""
    from grpc_tools import protoc
    import grpc_tools

    out = tempfile.mkdtemp(prefix="lcm-stubs-")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    files = [os.path.join(proto_root, "lcm", "v1", f) for f in ("resources.proto", "services.proto")]
    code = protoc.main(["protoc", f"-I{proto_root}", f"-I{well_known}", f"--python_out={out}",
                        f"--grpc_python_out={out}", *files])
    if code != 0:
        sys.exit(f"could not compile the protos under {proto_root}")
    sys.path.insert(0, out)
    pb = importlib.import_module("lcm.v1.services_pb2")
    res = importlib.import_module("lcm.v1.resources_pb2")
    rpc = importlib.import_module("lcm.v1.services_pb2_grpc")
    return pb, res, rpc


def day(ts):
    if not ts.seconds:
        return "-"
    return datetime.datetime.fromtimestamp(ts.seconds, datetime.timezone.utc).date().isoformat()


def read_state(path):
    try:
        with open(path) as f:
            return int(json.load(f)["after_sequence"])
    except FileNotFoundError:
        return 0


def save_state(path, sequence):
    """Writes the state atomically (a crash leaves the old or the new file, never half)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump({"after_sequence": sequence}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def describe(res, event):
    a = event.arrangement
    return {
        "sequence": event.sequence,
        "kind": res.EventKind.Name(event.kind).removeprefix("EVENT_KIND_"),
        "arrangement_id": a.id,
        "status": res.ArrangementStatus.Name(a.status).removeprefix("ARRANGEMENT_STATUS_"),
        "training_centre_id": a.training_centre_id,
        "recipient": a.recipient,
        "parties": list(a.parties),
        "quantity": a.quantity,
        "women_quantity": a.women_quantity,
        "scheduled_start": day(a.scheduled_start),
        "scheduled_end": day(a.scheduled_end),
        "trained": a.outcome.trained,
        "women_trained": a.outcome.women_trained,
    }


def watch(args, pb, res, rpc, channel, metadata):
    """Follows the centre's events from the saved sequence; returns the number handled."""
    stub = rpc.EventServiceStub(channel)
    kinds = [res.EventKind.Value(k) for k in KINDS]
    handled = 0
    last_activity = [time.monotonic()]
    while True:
        after = read_state(args.state_file)
        call = stub.WatchEvents(pb.WatchEventsRequest(after_sequence=after, kinds=kinds), metadata=metadata)
        stop = threading.Event()
        idle_stop = [False]

        def watchdog():
            while not stop.wait(0.1):
                if args.until_idle and time.monotonic() - last_activity[0] > args.until_idle:
                    idle_stop[0] = True
                    call.cancel()
                    return

        threading.Thread(target=watchdog, daemon=True).start()
        try:
            for event in call:
                last_activity[0] = time.monotonic()
                if event.sequence <= after:
                    continue  # never expected: the server resumes after `after`
                info = describe(res, event)
                if args.jsonl:
                    print(json.dumps(info), flush=True)
                else:
                    print(f"#{info['sequence']} {info['kind']:<18} {info['arrangement_id']} {info['status']:<15} "
                          f"for {info['recipient']}: {info['quantity']} seats ({info['women_quantity']} women), "
                          f"{info['scheduled_start']} to {info['scheduled_end']}, "
                          f"trained {info['trained']} ({info['women_trained']} women)", flush=True)
                save_state(args.state_file, event.sequence)
                after = event.sequence
                handled += 1
                if args.max_events and handled >= args.max_events:
                    call.cancel()
                    return handled
            return handled  # the server ended the stream (shutdown)
        except grpc.RpcError as e:
            if idle_stop[0] or e.code() == grpc.StatusCode.CANCELLED:
                return handled
            if e.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE):
                # Fell behind, or the server restarted: resume from the saved sequence.
                print(f"stream ended ({e.code().name}); resuming after #{read_state(args.state_file)}",
                      file=sys.stderr)
                time.sleep(0.5)
                continue
            raise
        finally:
            stop.set()


def list_hosted(pb, res, rpc, channel, metadata):
    stub = rpc.ArrangementServiceStub(channel)
    token = ""
    while True:
        page = stub.ListArrangements(pb.ListArrangementsRequest(page_size=500, page_token=token), metadata=metadata)
        for a in page.arrangements:
            status = res.ArrangementStatus.Name(a.status).removeprefix("ARRANGEMENT_STATUS_")
            print(f"{a.id} {status:<15} for {a.recipient}: {a.quantity} seats, "
                  f"{day(a.scheduled_start)} to {day(a.scheduled_end)}")
        token = page.next_page_token
        if not token:
            return


def record_outcome(args, pb, res, rpc, channel, metadata):
    stub = rpc.ArrangementServiceStub(channel)
    outcome = res.Outcome(trained=args.trained, women_trained=args.women_trained, certified=args.certified,
                          deployed_missions=args.mission)
    req = pb.RecordOutcomeRequest(id=args.arrangement_id, outcome=outcome, request_id=str(uuid.uuid4()))
    a = stub.RecordOutcome(req, metadata=metadata)
    print(f"{a.id}: outcome recorded, trained {a.outcome.trained} ({a.outcome.women_trained} women), "
          f"certified {a.outcome.certified}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--addr", default=os.environ.get("LCM_ADDR", "127.0.0.1:50051"), help="host:port of lcm")
    p.add_argument("--token", default=os.environ.get("LCM_TOKEN"), help="centre token (default: $LCM_TOKEN)")
    p.add_argument("--proto", default=os.path.join(here, "..", "proto"), help="the proto/ directory")
    sub = p.add_subparsers(dest="command", required=True)
    w = sub.add_parser("watch", help="follow the hosted arrangements' events")
    w.add_argument("--state-file", required=True, help="where the last handled sequence is kept")
    w.add_argument("--until-idle", type=float, default=0, help="exit after this many seconds without an event")
    w.add_argument("--max-events", type=int, default=0, help="exit after handling this many events")
    w.add_argument("--jsonl", action="store_true", help="print one JSON object per event")
    sub.add_parser("list", help="list the arrangements the centre hosts")
    o = sub.add_parser("outcome", help="record the outcome of a hosted arrangement")
    o.add_argument("arrangement_id")
    o.add_argument("--trained", type=int, required=True)
    o.add_argument("--women-trained", type=int, default=0)
    o.add_argument("--certified", type=int, default=0)
    o.add_argument("--mission", action="append", default=[], help="a mission the trainees deploy to (repeatable)")
    args = p.parse_args()
    if not args.token:
        p.error("a token is required: --token or LCM_TOKEN")
    pb, res, rpc = load_stubs(os.path.abspath(args.proto))
    metadata = (("authorization", f"Bearer {args.token}"),)
    with grpc.insecure_channel(args.addr) as channel:
        try:
            if args.command == "watch":
                n = watch(args, pb, res, rpc, channel, metadata)
                print(f"handled {n} events; next start resumes after #{read_state(args.state_file)}",
                      file=sys.stderr)
            elif args.command == "list":
                list_hosted(pb, res, rpc, channel, metadata)
            else:
                record_outcome(args, pb, res, rpc, channel, metadata)
        except grpc.RpcError as e:
            sys.exit(f"lcm: {e.code().name}: {e.details()}")


if __name__ == "__main__":
    main()
