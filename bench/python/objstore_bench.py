"""Upstream Gnocchi 4.4.2 on an object store, in-process, for bench/objstore.ts --compare.

Usage: python3 objstore_bench.py '<json config>'  (fields: see objstore.ts upstreamRun)
Prints one JSON object: {"rows": [{"workload", "work", "cpuMs", "wallMs"}]}.

The same workloads as ours, run by upstream's own code: its PostgreSQL indexer, its s3 or
swift incoming and storage drivers (boto3 / python-swiftclient) on the same server, a tooz
file coordinator, `Chef.process_new_measures_for_sack` over every sack (one metricd pass) and
`get_aggregated_measures` (what `GET /v1/metric/<id>/measures` calls). Only the workloads are
timed, with getrusage(RUSAGE_SELF): user + system of every thread of this process; the
object server's CPU is not counted (nor ours).
"""
import json
import os
import resource
import sys
import time
import uuid

import numpy

if not hasattr(numpy, "int"):
    numpy.int = int  # gnocchi 4.4.2 uses numpy.int (removed from numpy >= 1.24)

from tooz import coordination  # noqa: E402

from gnocchi import archive_policy, chef, incoming, indexer, service, storage  # noqa: E402

MINUTE_NS = 60 * 1_000_000_000
NS = 1_000_000_000


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1000.0


def driver_lines(cfg):
    o = cfg["store"]
    if cfg["driver"] == "s3":
        return ["driver = s3", "s3_endpoint_url = %s" % o["endpoint"],
                "s3_access_key_id = %s" % o["access_key"],
                "s3_secret_access_key = %s" % o["secret_key"],
                "s3_bucket_prefix = %s" % o["prefix"]]
    return ["driver = swift", "swift_auth_version = 1", "swift_authurl = %s" % o["authurl"],
            "swift_user = %s" % o["user"], "swift_key = %s" % o["key"],
            "swift_url = %s" % o["url"], "swift_container_prefix = %s" % o["prefix"]]


def measures(start_ns, n):
    i = numpy.arange(n, dtype="int64")
    ts = (start_ns + i * MINUTE_NS).astype("datetime64[ns]")
    vs = numpy.sin(i / 10.0) * 100 + i
    return [incoming.Measure(t, v) for t, v in zip(ts, vs)]


def main():
    cfg = json.loads(sys.argv[1])
    base = cfg["dir"]
    lines = ["[indexer]", "url = %s" % cfg["indexer_url"], "[storage]"] + driver_lines(cfg)
    lines += ["[incoming]"] + driver_lines(cfg)
    conf_file = os.path.join(base, "gnocchi.conf")
    with open(conf_file, "w") as f:
        f.write("\n".join(lines) + "\n")
    conf = service.prepare_service(args=[], default_config_files=[conf_file],
                                   skip_log_opts=True, logging_level=40)
    index = indexer.get_driver(conf)
    index.upgrade()
    store = storage.get_driver(conf)
    store.upgrade()
    inc = incoming.get_driver(conf)
    inc.upgrade(cfg["sacks"])
    p = cfg["policy"]
    policy = archive_policy.ArchivePolicy(
        p["name"], 0, [archive_policy.ArchivePolicyItem(granularity=numpy.timedelta64(g, "s"),
                                                          points=n)
                       for g, n in p["definition"]],
        aggregation_methods=p["methods"])
    index.create_archive_policy(policy)
    coord = coordination.get_coordinator("file://" + os.path.join(base, "locks"), b"bench")
    coord.start(start_heart=False)
    kitchen = chef.Chef(coord, inc, index, store)
    metrics = [index.create_metric(uuid.uuid4(), "bench", policy.name)
               for _ in range(cfg["metrics"])]
    ids = [m.id for m in metrics]
    rows = []

    def timed(workload, work, fn):
        c0 = cpu_ms()
        w0 = time.perf_counter()
        fn()
        rows.append({"workload": workload, "work": work, "cpuMs": cpu_ms() - c0,
                     "wallMs": (time.perf_counter() - w0) * 1000.0})

    def process_all():
        for sack in inc.iter_sacks():
            kitchen.process_new_measures_for_sack(sack, blocking=True, sync=True)

    # Push: one add_measures of `push_size` measures per request, round robin (the API's
    # POST /v1/metric/<id>/measures after parsing), measures encoded inside add_measures.
    push = measures(cfg["t0_ns"] - cfg["pushes"] * cfg["push_size"] * MINUTE_NS, cfg["push_size"])

    def do_push(n):
        for i in range(n):
            inc.add_measures(ids[i % len(ids)], push)
    do_push(cfg.get("warmup", 0))  # untimed, as ours
    timed("push", cfg["pushes"], lambda: do_push(cfg["pushes"]))
    process_all()

    # Bulk drain: `history` new measures for every metric, then every sack processed.
    nxt = cfg["t0_ns"]
    hist = measures(nxt, cfg["history"])
    for at in range(0, len(ids), 200):
        inc.add_measures_batch({mid: hist for mid in ids[at:at + 200]})
    timed("drain", len(ids) * cfg["history"], process_all)
    nxt += cfg["history"] * MINUTE_NS

    # Reads: the last day at the finest granularity, mean, every metric, `sweeps` times.
    agg = policy.get_aggregation("mean", numpy.timedelta64(cfg["read_granularity"], "s"))
    start = numpy.datetime64(nxt - cfg["read_points"] * cfg["read_granularity"] * NS, "ns")

    def do_reads():
        for _ in range(cfg["sweeps"]):
            for m in metrics:
                got = store.get_aggregated_measures({m: [agg]}, start, None)
                assert len(got[m][agg]) == cfg["read_points"], len(got[m][agg])
    timed("read", cfg["sweeps"] * len(metrics) * cfg["read_points"], do_reads)

    # Steady state: a few new measures for every existing metric, one pass.
    for n in cfg["sizes"]:
        for _ in range(cfg["rounds"]):
            new = measures(nxt, n)
            for at in range(0, len(ids), 200):
                inc.add_measures_batch({mid: new for mid in ids[at:at + 200]})
            nxt += n * MINUTE_NS
            timed("steady %d" % n, len(ids), process_all)
    coord.stop()
    json.dump({"rows": rows}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
