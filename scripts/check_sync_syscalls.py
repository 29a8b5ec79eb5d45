#!/usr/bin/env python3
"""Power-loss check from the syscall record (issue 14); Python standard library only.

`drive`: writes records at every size limit through the `lcm` CLI (needs and offers with
200-character titles, 4 000-character descriptions and 100-character pledge references,
most characters four bytes in UTF-8; a centre with a 200-character name; a proposal run;
approvals and a rejection with 2 000-character notes), one request at a time, and appends
the wall-clock time of each acknowledgement (taken as soon as the CLI returns success)
and of its request (taken just before the CLI starts) to the acks file.

`check`: reads an `strace -f -ttt` record of `lcm serve` and the acks file. It tracks file
descriptors through open/openat/creat, dup/dup2/dup3/fcntl(F_DUPFD) and close, and then,
for every acknowledgement at time T:
  - every file under the data directory written (write, pwrite, writev, pwritev,
    ftruncate, fallocate) before T must have an fsync or fdatasync that started after its
    last write before T and ended before T;
  - every directory under (or being) the data directory that gained an entry or had one
    renamed before T (a file created by open with O_CREAT, mkdir, rename, link) must
    have an fsync of the directory that started after that change and ended before T.
    A removal (unlink, rmdir) need not be synced before T: what a power cut can do to it
    is undo it, and an undone removal brings back a file nothing acknowledged depends on
    (sled removes a blob only once the message pointing to it was replaced, and an old
    snapshot only once a newer one is in place; a resurrected one is never read). Making
    the removal durable first would protect nothing.
sled's log (store/db) is also written by sled's own flusher thread, once a second (it
rolls the log buffer and relocates pages of segments it cleans), at a moment no request
chose, so it can change in the instant between the sync that released an answer and the
client's receipt of it. For the log the rule is therefore: the answer was released by a
sync of the log that started after some write the request made (after it was sent) and
ended before T; that sync covers every write before it. A write after that sync and
before T must be synced before the next acknowledgement (it precedes that request) or,
after the last one, before the trace ends; and no more answers may see such a write
than sled's flusher can explain (one per second of the run, plus one): a server that
writes the log after the sync it answers on fails.
Blob files that sled writes outside a landing (with --landing-tids: blob files under
store/blobs/ written only by other threads; sled rewrites a page in full when a reader
consolidates it or its segment is cleaned) are held to a weaker rule, the one lcm can
keep: synced at a later sync (before the trace ends) rather than before the next
acknowledgement. lcm cannot sync them sooner: sled writes them from any thread, with no
hook, and they carry no acknowledged write of their own (docs/STORAGE.md, "Blob files").
Every blob file a landing writes must meet the strict rule: no landing runs between the
syncer's listing of blobs/ and its fdatasync, so none can slip between them.
sync_file_range is not a sync (it flushes neither metadata nor the drive's cache).
syncfs(2) and sync(2) count as syncing everything. Prints PASS, or FAIL with the
violations, and exits 1 on FAIL.

`selftest`: the checker on hand-written traces, correct ones and one per fault.
"""

import argparse
import bisect
import os
import re
import subprocess
import sys
import time

WIDE = ["\U0001d11e", "\U0001d538", "\U0001f54a", "\U0001f30d", "\u00e9", "\u20ac"]


def text(tag, chars, multiline=False):
    out = list(tag[:chars])
    while len(out) < chars:
        n = len(out)
        out.append("\n" if multiline and n % 80 == 79 else WIDE[n % len(WIDE)])
    return "".join(out)


def drive(args):
    base = [args.lcm, "--addr", args.addr, "--token-file", args.token_file, "--json"]
    acks = open(args.acks, "a")
    count = 0

    def call(*argv):
        nonlocal count
        sent = time.time()
        r = subprocess.run(base[:1] + list(argv) + base[1:], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"FAIL: lcm {argv[0]} {argv[1]} was refused: {r.stderr.strip()[:500]}")
        acks.write(f"{time.time():.6f} {sent:.6f} {argv[0]} {argv[1]}\n")
        acks.flush()
        count += 1
        return r.stdout

    call("centres", "create", "--name", text("centre ", 200), "--host-state", "KEN", "--languages", "en,fr",
         "--capabilities", "MEDICAL")
    for i in range(args.writes):
        call("needs", "create", "--requester", ["UGA", "RWA", "KEN", "GHA"][i % 4], "--category", "TRAINING",
             "--capability", "MEDICAL", "--title", text(f"need {i} ", 200), "--description",
             text(f"need {i} ", 4000, True), "--quantity", "5", "--languages", "en", "--needed-by", "+120",
             "--priority", "ROUTINE", "--pledge-level", "LEVEL_2", "--pledge-ref", text(f"P{i}-", 100))
        call("offers", "create", "--providers", ["JPN", "FRA", "BRA", "IRL"][i % 4], "--role", "DELIVERY",
             "--category", "TRAINING", "--capability", "MEDICAL", "--title", text(f"offer {i} ", 200),
             "--description", text(f"offer {i} ", 4000, True), "--capacity", "3", "--available-from", "+1",
             "--available-until", "+200", "--languages", "en", "--mode", "MOBILE_TRAINING_TEAM",
             "--duration-days", "5")
    out = call("match", "propose")
    ids = sorted(set(re.findall(r'"(match-[0-9]+)"', out)), key=lambda s: int(s.split("-")[1]))
    for j, mid in enumerate(ids[:12]):
        if j % 4 == 3:
            call("match", "reject", mid, "--reason", text(f"reject {mid} ", 2000, True))
        else:
            call("match", "approve", mid, "--comment", text(f"approve {mid} ", 2000, True))
    print(f"{count} writes acknowledged ({len(ids)} matches proposed)")


LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
CALL = re.compile(r"^([a-z0-9_]+)\((.*)$")
RESUMED = re.compile(r"^<\.\.\. ([a-z0-9_]+) resumed>(.*)$")
RESULT = re.compile(r"\)\s+=\s+(-?[0-9a-fx?]+)")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')

# sled's flush_every_ms in lcm (src/store/opening.rs): its flusher thread writes the log on
# its own at most this often.
FLUSHER_PERIOD_S = 1.0
WRITES = {"write", "pwrite64", "writev", "pwritev", "pwritev2", "ftruncate", "fallocate"}
SYNCS = {"fsync", "fdatasync"}


def calls(path):
    """Yields (tid, start, end, name, args, ret) for every complete call in the trace."""
    pending = {}
    for raw in open(path, errors="replace"):
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        tid, t, rest = int(m.group(1)), float(m.group(2)), m.group(3)
        if rest.startswith("+++") or rest.startswith("---"):
            continue
        r = RESUMED.match(rest)
        if r:
            start = pending.pop((tid, r.group(1)), None)
            if start is None:
                continue
            st, head = start
            full = head + r.group(2)
            name = r.group(1)
        else:
            c = CALL.match(rest)
            if not c:
                continue
            name = c.group(1)
            if rest.endswith("<unfinished ...>"):
                pending[(tid, name)] = (t, c.group(2)[: -len("<unfinished ...>")].rstrip())
                continue
            st, full = t, c.group(2)
        found = list(RESULT.finditer(full))
        ret, idx = None, -1
        if found:
            idx = found[-1].start()
            try:
                ret = int(found[-1].group(1), 0)
            except ValueError:
                ret = None
        args_text = full[:idx] if idx >= 0 else full
        yield tid, st, t, name, args_text, ret


def split_args(s):
    out, depth, cur, q = [], 0, [], False
    i = 0
    while i < len(s):
        ch = s[i]
        if q:
            cur.append(ch)
            if ch == "\\" and i + 1 < len(s):
                cur.append(s[i + 1])
                i += 1
            elif ch == '"':
                q = False
        elif ch == '"':
            q = True
            cur.append(ch)
        elif ch in "[{(":
            depth += 1
            cur.append(ch)
        elif ch in "]})":
            depth -= 1
            cur.append(ch)
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    if cur:
        out.append("".join(cur).strip())
    return out


def unquote(a):
    m = QUOTED.search(a)
    return m.group(1) if m else None


def check(args):
    data = os.path.realpath(args.data_dir)
    fds = {}  # fd -> path (threads of the server share one table)
    writes = {}  # path -> [end times of writes]
    syncs = {}  # path -> [(start, end)] of fsync/fdatasync of it
    dir_changes = {}  # directory -> [(time, what)]
    global_syncs = []  # (start, end) of sync/syncfs
    kinds = {}  # path -> "dir" or "file"
    known = set()  # paths that exist
    counts = {"write": 0, "sync": 0, "dir sync": 0, "dir change": 0, "sync_file_range": 0}

    def under(p):
        return p is not None and (p == data or p.startswith(data + "/"))

    def resolve(dirfd_arg, p):
        if p is None:
            return None
        if p.startswith("/"):
            return os.path.normpath(p)
        base = os.getcwd() if dirfd_arg in (None, "AT_FDCWD") else fds.get(fd_of(dirfd_arg))
        return os.path.normpath(os.path.join(base, p)) if base else None

    def fd_of(a):
        try:
            return int(a.split("<")[0])
        except (ValueError, AttributeError):
            return None

    def change(path, t, what):
        if under(path) or under(os.path.dirname(path)):
            d = os.path.dirname(path)
            dir_changes.setdefault(d, []).append((t, f"{what} {os.path.basename(path)}"))
            counts["dir change"] += 1

    landing_tids = {int(t) for t in (args.landing_tids or "").split(",") if t}
    writer_tids = {}  # path -> threads that created or wrote it
    blobs_dir = os.path.join(data, "store", "blobs")
    blobs_created = set()

    def rewrite_blob(path):
        """A blob file only threads other than the landing threads wrote."""
        return (
            bool(landing_tids)
            and os.path.dirname(path) == blobs_dir
            and not (writer_tids.get(path, set()) & landing_tids)
        )

    for tid, st, end, name, a, ret in calls(args.trace):
        av = split_args(a)
        if name in ("open", "openat", "creat"):
            if ret is None or ret < 0:
                continue
            if name == "openat":
                path, flags = resolve(av[0], unquote(av[1])), av[2] if len(av) > 2 else ""
            else:
                path = resolve(None, unquote(av[0]))
                flags = "O_CREAT" if name == "creat" else (av[1] if len(av) > 1 else "")
            fds[ret] = path
            if "O_DIRECTORY" in flags:
                kinds[path] = "dir"
            elif path not in kinds:
                kinds[path] = "file" if not os.path.isdir(path or "") else "dir"
            if "O_CREAT" in flags and under(path) and path not in known:
                # The data directory starts empty: the first open that may create a name
                # does create it.
                change(path, end, "create")
                writer_tids.setdefault(path, set()).add(tid)
                if os.path.dirname(path) == blobs_dir:
                    blobs_created.add(path)
            known.add(path)
            if "O_TRUNC" in flags and under(path):
                writes.setdefault(path, []).append(end)
        elif name == "close":
            if ret == 0 or ret is None:
                fds.pop(fd_of(av[0]), None)
        elif name in ("dup", "dup2", "dup3"):
            if ret is not None and ret >= 0 and fd_of(av[0]) in fds:
                fds[ret] = fds[fd_of(av[0])]
        elif name == "fcntl":
            if len(av) > 1 and av[1].startswith("F_DUPFD") and ret is not None and ret >= 0:
                if fd_of(av[0]) in fds:
                    fds[ret] = fds[fd_of(av[0])]
        elif name in WRITES:
            path = fds.get(fd_of(av[0]))
            if under(path) and ret is not None and ret >= 0 and (ret > 0 or name in ("ftruncate", "fallocate")):
                writes.setdefault(path, []).append(end)
                writer_tids.setdefault(path, set()).add(tid)
                counts["write"] += 1
        elif name in SYNCS:
            path = fds.get(fd_of(av[0]))
            if under(path) and ret == 0:
                syncs.setdefault(path, []).append((st, end))
                counts["dir sync" if kinds.get(path) == "dir" else "sync"] += 1
        elif name in ("sync", "syncfs"):
            if ret == 0:
                global_syncs.append((st, end))
        elif name == "sync_file_range":
            counts["sync_file_range"] += 1
        elif name in ("rename", "renameat", "renameat2", "link", "linkat"):
            if ret == 0:
                if name in ("rename", "link"):
                    old, new = resolve(None, unquote(av[0])), resolve(None, unquote(av[1]))
                else:
                    old, new = resolve(av[0], unquote(av[1])), resolve(av[2], unquote(av[3]))
                if name.startswith("rename"):
                    change(old, end, "rename from")
                    if old in writes:
                        writes[new] = writes.pop(old)
                    if old in syncs:
                        syncs[new] = syncs.pop(old)
                change(new, end, "new name")
        elif name in ("unlink", "unlinkat", "rmdir", "mkdir", "mkdirat"):
            if ret == 0:
                path = resolve(av[0], unquote(av[1])) if name.endswith("at") else resolve(None, unquote(av[0]))
                if name.startswith("mkdir"):
                    change(path, end, "mkdir")
                    kinds[path] = "dir"
                # A removal needs no sync before an acknowledgement (see the module docs).

    acks = []  # (acknowledged, sent or None, what)
    for line in open(args.acks):
        parts = line.split()
        if parts:
            try:
                sent = float(parts[1])
                what = parts[2:]
            except (IndexError, ValueError):
                sent, what = None, parts[1:]
            acks.append((float(parts[0]), sent, " ".join(what)))
    if not acks:
        print("FAIL: no acknowledgement recorded")
        return 1

    def synced(path, after, before):
        for s, e in syncs.get(path, []) + global_syncs:
            if s >= after and e <= before:
                return True
        return False

    violations = {}
    for ws in writes.values():
        ws.sort()
    end_of_trace = float("inf")
    # Blob files sled rewrote outside a landing: synced after their last write, at all.
    rewrites = sorted(p for p in writes if rewrite_blob(p))
    rewrites_late = [p for p in rewrites if not synced(p, writes[p][-1], end_of_trace)
                     and not any(c[1] == f"unlink {os.path.basename(p)}" for c in dir_changes.get(blobs_dir, []))]
    for p in rewrites_late:
        violations.setdefault(("file", p), []).append((end_of_trace, "the end of the trace", writes[p][-1]))
    log = os.path.join(data, "store", "db")
    after_release = {}  # path -> [(end of a write after the sync that released an acknowledgement, what)]
    late_answers = []  # acknowledgements with such writes

    def released(path, ws, sent, t):
        """sled's log only: whether the acknowledgement at t of the request sent at `sent`
        was released by a sync that started after the request was sent and after some
        write of it (the request's own writes precede the sync that answers it), ended
        before t, and so covers every write that ended before it started. Writes that
        ended after that sync started and before t are kept for a later sync."""
        for start, end in sorted(syncs.get(path, []) + global_syncs, reverse=True):
            if end > t:
                continue
            if any(sent <= w <= start for w in ws):
                late = [(w, what) for w in ws if start < w < t]
                if late:
                    after_release.setdefault(path, []).extend(late)
                    late_answers.append(t)
                return True
        return False

    for t, sent, what in acks:
        for path, ws in writes.items():
            if path in rewrites:
                continue
            i = bisect.bisect_left(ws, t)
            if i == 0:
                continue
            last = ws[i - 1]
            if synced(path, last, t):
                continue
            if path == log and sent is not None and released(path, ws, sent, t):
                continue
            violations.setdefault(("file", path), []).append((t, what, last))
        for d, changes in dir_changes.items():
            before = [c for c in changes if c[0] < t
                      and not (d == blobs_dir and rewrite_blob(os.path.join(d, c[1].split(" ", 1)[1])))]
            if not before:
                continue
            last = max(before)
            if not synced(d, last[0], t):
                violations.setdefault(("dir", d), []).append((t, what, last[0], last[1]))

    # A write after a releasing sync carries nothing that sync answered; it must still be
    # synced, before the next acknowledgement (checked above, as a write before that
    # request was sent) or, after the last one, before the trace ends.
    for path, late in after_release.items():
        for w, what in late:
            if not synced(path, w, end_of_trace):
                violations.setdefault(("file", path), []).append((
                    end_of_trace, f"the end of the trace (written after the sync that released {what})", w))

    # The one writer of the log outside a landing is sled's flusher thread, once every
    # flush_every_ms (1000 ms in lcm): more answers with a later write than it can explain
    # mean the server's own flush ran after the sync it answered on.
    span = acks[-1][0] - acks[0][0] if acks else 0.0
    late_allowed = 1 + int(span / FLUSHER_PERIOD_S)
    too_many_late = len(late_answers) > late_allowed

    rel = lambda p: os.path.relpath(p, data)
    print(
        f"trace: {counts['write']} writes and {counts['sync']} file syncs under the data directory, "
        f"{counts['dir change']} directory entry changes, {counts['dir sync']} directory syncs, "
        f"{counts['sync_file_range']} sync_file_range calls (not syncs); {len(acks)} acknowledgements; "
        f"{len(blobs_created)} blob files created; {len(late_answers)} answers with a later write of the log"
        + (f"; {len(rewrites)} blob files sled wrote outside a landing, each synced at a later sync"
           if landing_tids else "")
    )
    failed = bool(violations)
    if too_many_late:
        print(f"FAIL: {len(late_answers)} answers saw a write of sled's log after the sync that released them; "
              f"sled's flusher can explain at most {late_allowed} over {span:.1f} s, so the server wrote the log "
              f"after syncing it (first at {late_answers[late_allowed]:.6f})")
        failed = True
    if args.max_blob_files >= 0 and len(blobs_created) > args.max_blob_files:
        print(f"FAIL: sled created {len(blobs_created)} blob files (at most {args.max_blob_files} allowed): "
              "a value or page passed sled's blob threshold (docs/STORAGE.md, values in pieces)")
        failed = True
    files = sorted(k for k in violations if k[0] == "file")
    dirs = sorted(k for k in violations if k[0] == "dir")
    for kind, group in (("file", files), ("directory", dirs)):
        if group:
            print(f"{len(group)} {kind}(s) not synced before an acknowledgement that followed a change:")
        for k in group[: args.show]:
            v = violations[k]
            first = v[0]
            print(
                f"  {kind} {rel(k[1])}: changed at {first[2]:.6f}"
                + (f" ({first[3]})" if kind == "directory" else "")
                + f", not synced before the acknowledgement of {first[1]} at {first[0]:.6f} "
                f"({len(v)} acknowledgements affected)"
            )
        if len(group) > args.show:
            print(f"  ... and {len(group) - args.show} more")
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


def selftest():
    """The checker on small hand-written traces: it must pass the correct ones and fail
    each fault, so neither verdict is built in."""
    import tempfile

    D = "/data"
    head = [
        f'1 1.000 mkdir("{D}/store", 0777) = 0',
        f'1 1.001 openat(AT_FDCWD, "{D}/store", O_RDONLY|O_DIRECTORY|O_CLOEXEC) = 3',
        "1 1.002 fsync(3)       = 0",
        f'1 1.003 openat(AT_FDCWD, "{D}", O_RDONLY|O_DIRECTORY|O_CLOEXEC) = 4',
        "1 1.004 fsync(4)       = 0",
        f'1 1.010 openat(AT_FDCWD, "{D}/store/db", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 5',
        '1 1.011 pwrite64(5, ""..., 100, 0) = 100',
        "2 1.012 dup(5) = 6",
        "2 1.013 fdatasync(6 <unfinished ...>",
        "1 1.014 fsync(3 <unfinished ...>",
        "2 1.015 <... fdatasync resumed>) = 0",
        "1 1.016 <... fsync resumed>) = 0",
    ]
    cases = {
        "synced through a dup, directory synced": (head, True),
        "a write after the sync": (head + ['1 1.017 write(5, ""..., 10) = 10'], False),
        "sync_file_range is no sync": (
            head + ['1 1.017 write(5, ""..., 10) = 10', "1 1.018 sync_file_range(5, 0, 10, 7) = 0"], False),
        "a sync of the fd after it was closed and reused": (
            head + ['1 1.017 write(5, ""..., 10) = 10', "1 1.018 close(5) = 0",
                    f'1 1.019 openat(AT_FDCWD, "/elsewhere", O_RDONLY) = 5', "1 1.020 fsync(5) = 0"], False),
        "a new file whose directory is not synced": (
            head + [f'1 1.017 openat(AT_FDCWD, "{D}/store/blobs-1", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 7',
                    "1 1.018 fsync(7) = 0"], False),
        "a new file, then its directory synced": (
            head + [f'1 1.017 openat(AT_FDCWD, "{D}/store/blobs-1", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 7',
                    '1 1.0175 write(7, ""..., 10) = 10', "1 1.018 fsync(7) = 0", "1 1.019 fsync(3) = 0"], True),
        "an unlink whose directory is not synced (a power cut can only undo it)": (
            head + [f'1 1.017 unlink("{D}/store/old") = 0'], True),
        "a new file whose directory is not synced, beside a removal": (
            head + [f'1 1.017 unlink("{D}/store/old") = 0',
                    f'1 1.018 openat(AT_FDCWD, "{D}/store/new", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 7',
                    "1 1.019 fsync(7) = 0"], False),
        "a landing thread's blob, not synced before the acknowledgement": (
            head + [f'1 1.017 openat(AT_FDCWD, "{D}/store/blobs/9", O_WRONLY|O_CREAT|O_EXCL, 0666) = 7',
                    '1 1.018 write(7, ""..., 10) = 10', "1 1.020 fsync(7) = 0",
                    f'1 1.021 openat(AT_FDCWD, "{D}/store/blobs", O_RDONLY|O_DIRECTORY) = 8', "1 1.022 fsync(8) = 0",
                    '1 1.030 write(5, ""..., 10) = 10', "2 1.031 fdatasync(6) = 0",
                    f'1 1.032 openat(AT_FDCWD, "{D}/store/blobs/10", O_WRONLY|O_CREAT|O_EXCL, 0666) = 9',
                    '1 1.033 write(9, ""..., 10) = 10'], False),
        "another thread's blob, synced after the acknowledgement": (
            head + [f'2 1.032 openat(AT_FDCWD, "{D}/store/blobs/10", O_WRONLY|O_CREAT|O_EXCL, 0666) = 9',
                    '2 1.033 write(9, ""..., 10) = 10', "1 1.200 fsync(9) = 0",
                    f'1 1.201 openat(AT_FDCWD, "{D}/store/blobs", O_RDONLY|O_DIRECTORY) = 8', "1 1.202 fsync(8) = 0"],
            True),
        "another thread's blob, never synced": (
            head + [f'2 1.032 openat(AT_FDCWD, "{D}/store/blobs/10", O_WRONLY|O_CREAT|O_EXCL, 0666) = 9',
                    '2 1.033 write(9, ""..., 10) = 10'], False),
        "a rename whose directory is not synced": (
            head + [f'1 1.017 rename("{D}/store/a.tmp", "{D}/store/a") = 0'], False),
        "a rename, then the directory synced": (
            head + [f'1 1.017 rename("{D}/store/a.tmp", "{D}/store/a") = 0', "1 1.018 fsync(3) = 0"], True),
    }
    blob_synced = cases["another thread's blob, synced after the acknowledgement"][0]
    # (lines, expected, --max-blob-files, acknowledgements: "acknowledged sent what")
    one = "1.100 1.005 ack\n"
    cases = {name: (lines, want, -1, one) for name, (lines, want) in cases.items()}
    cases["no blob file, none allowed"] = (head, True, 0, one)
    cases["a blob file, synced in time, when none is allowed"] = (blob_synced, False, 0, one)
    # sled's log may change between the sync that released an answer and the client's
    # receipt of it (sled's own thread), but only after the request's writes and that sync.
    log_late = head + ['3 1.050 pwrite64(5, ""..., 10, 100) = 10']
    two = one + "1.200 1.150 second\n"
    second = ['1 1.160 pwrite64(5, ""..., 10, 110) = 10', "2 1.170 fdatasync(6) = 0"]
    cases["the log written after the releasing sync, synced by the next"] = (log_late + second, True, -1, two)
    cases["the log written after the releasing sync, synced once the last answer is out"] = (
        log_late + ["3 1.300 fsync(5) = 0"], True, -1, one)
    cases["the log written after the releasing sync, never synced"] = (log_late, False, -1, one)
    cases["the log written after the releasing sync, and the next answer has no sync of its own"] = (
        log_late + ['1 1.160 pwrite64(5, ""..., 10, 110) = 10'], False, -1, two)
    cases["the log written only after the sync before the answer (fdatasync before flush)"] = (
        head[:6] + ["1 1.0105 fsync(3) = 0", "2 1.012 dup(5) = 6", "2 1.013 fdatasync(6) = 0",
                    '1 1.014 pwrite64(5, ""..., 100, 0) = 100', "1 1.500 fsync(5) = 0"], False, -1, one)
    cases["the log's only sync before the answer came before the request"] = (
        head + ['1 1.030 pwrite64(5, ""..., 10, 100) = 10', "1 1.500 fsync(5) = 0"], False, -1,
        "1.100 1.020 ack\n")
    cases["another file written after the releasing sync (only sled's log may be)"] = (
        head + [f'1 1.017 openat(AT_FDCWD, "{D}/store/conf", O_WRONLY|O_CLOEXEC) = 7',
                '3 1.050 write(7, ""..., 10) = 10', "1 1.500 fsync(7) = 0"], False, -1, one)
    flushed_after = log_late + ['1 1.115 pwrite64(5, ""..., 10, 110) = 10', "2 1.120 fdatasync(6) = 0",
                                '1 1.125 pwrite64(5, ""..., 10, 120) = 10', '1 1.130 pwrite64(5, ""..., 10, 130) = 10',
                                "2 1.140 fdatasync(6) = 0"]
    three = one + "1.128 1.110 second\n1.150 1.129 third\n"
    cases["two answers with a later write of the log within a second (more than sled's flusher)"] = (
        flushed_after + ["2 1.500 fdatasync(6) = 0"], False, -1, three)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (lines, want, max_blob_files, ack_lines) in cases.items():
            trace, acks = os.path.join(tmp, "trace"), os.path.join(tmp, "acks")
            open(trace, "w").write("\n".join(lines) + "\n")
            open(acks, "w").write(ack_lines)
            ns = argparse.Namespace(trace=trace, acks=acks, data_dir=D, max_blob_files=max_blob_files, show=5,
                                    landing_tids="1")
            import contextlib
            import io

            with contextlib.redirect_stdout(io.StringIO()):
                got = check(ns) == 0
            if got != want:
                failures += 1
                print(f"selftest: {name}: {'PASS' if got else 'FAIL'}, expected {'PASS' if want else 'FAIL'}")
    print(f"selftest: {len(cases) - failures} of {len(cases)} hand-written traces judged as expected")
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("drive")
    d.add_argument("--lcm", required=True)
    d.add_argument("--addr", required=True)
    d.add_argument("--token-file", required=True)
    d.add_argument("--acks", required=True)
    d.add_argument("--writes", type=int, default=40)
    c = sub.add_parser("check")
    c.add_argument("--trace", required=True)
    c.add_argument("--acks", required=True)
    c.add_argument("--data-dir", required=True)
    c.add_argument("--max-blob-files", type=int, default=-1,
                   help="fail if sled created more blob files than this (-1: any number)")
    c.add_argument("--show", type=int, default=25, help="violations shown per kind")
    c.add_argument("--landing-tids", default="", help="comma-separated ids of the threads that land writes")
    sub.add_parser("selftest")
    a = p.parse_args()
    if a.cmd == "selftest":
        return selftest()
    if a.cmd == "drive":
        drive(a)
        return 0
    return check(a)


if __name__ == "__main__":
    sys.exit(main())
