"""Upstream Gnocchi 4.4.2 metricd in the steady state, for bench/metricd-steady.ts --compare.

Usage: python3 metricd_steady.py '<json config>'  (fields: see metricd-steady.ts upstreamRows)
Prints one JSON object: {"rows": [{"perUpdate", "updates", "cpuMs", "wallMs"}], "rss": [...]}
("duration" > 0: passes of sizes[0] until that many seconds passed, RSS sampled every
"rss_every" seconds from /proc/self/statm).

The same workload as ours, run by upstream's own code: its indexer (PostgreSQL), incoming and
storage drivers (file or Redis), a tooz file coordinator, and `Chef.process_new_measures_for_sack`
for every sack, which is what one metricd processing pass does. Only the passes are timed,
with getrusage(RUSAGE_SELF) (user + system, every thread of this process).
"""
import json
import os
import resource
import sys
import threading
import time
import uuid

import numpy

if not hasattr(numpy, "int"):
    numpy.int = int  # gnocchi 4.4.2 uses numpy.int (removed from numpy >= 1.24)

from tooz import coordination  # noqa: E402

from gnocchi import archive_policy, chef, incoming, indexer, service, storage  # noqa: E402

MINUTE_NS = 60 * 1_000_000_000


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1000.0


def main():
    cfg = json.loads(sys.argv[1])
    base = cfg["dir"]
    lines = ["[indexer]", "url = %s" % cfg["indexer_url"], "[storage]"]
    if cfg["storage"] == "redis":
        lines += ["driver = redis", "redis_url = %s" % cfg["redis_url"],
                  "[incoming]", "driver = redis", "redis_url = %s" % cfg["redis_url"]]
    else:
        lines += ["driver = file", "file_basepath = %s" % os.path.join(base, "storage"),
                  "[incoming]", "driver = file",
                  "file_basepath = %s" % os.path.join(base, "storage")]
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
    inc.upgrade(128)
    policy = archive_policy.DEFAULT_ARCHIVE_POLICIES[cfg["policy"]]
    index.create_archive_policy(policy)
    coord = coordination.get_coordinator("file://" + os.path.join(base, "locks"), b"bench")
    coord.start(start_heart=False)
    kitchen = chef.Chef(coord, inc, index, store)

    ids = []
    for _ in range(cfg["metrics"]):
        m = index.create_metric(uuid.uuid4(), "bench", policy.name)
        ids.append(m.id)

    def push(start_ns, n):
        i = numpy.arange(n, dtype="int64")
        ts = (start_ns + i * MINUTE_NS).astype("datetime64[ns]")
        vs = numpy.sin(i / 10.0) * 100 + i
        measures = [incoming.Measure(t, v) for t, v in zip(ts, vs)]
        for at in range(0, len(ids), 200):
            inc.add_measures_batch({mid: measures for mid in ids[at:at + 200]})

    def process_all():
        n = 0
        for sack in inc.iter_sacks():
            n += kitchen.process_new_measures_for_sack(sack, blocking=True, sync=True)
        return n

    nxt = cfg["t0_ns"]
    push(nxt, cfg["history"])
    process_all()
    nxt += cfg["history"] * MINUTE_NS
    rows = []
    duration = cfg.get("duration") or 0
    rss = []
    started = time.perf_counter()

    def sample():
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        rss.append({"s": round(time.perf_counter() - started),
                    "rssMiB": pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20})

    stop = threading.Event()

    def sampler():
        while not stop.wait(cfg.get("rss_every") or 10):
            sample()

    if duration > 0:
        sample()
        threading.Thread(target=sampler, daemon=True).start()
    plan = [cfg["sizes"][0]] if duration > 0 else cfg["sizes"]
    for n in plan:
        r = 0
        while (time.perf_counter() - started < duration) if duration > 0 else r < cfg["rounds"]:
            r += 1
            push(nxt, n)
            nxt += n * MINUTE_NS
            c0 = cpu_ms()
            w0 = time.perf_counter()
            updates = process_all()
            rows.append({"perUpdate": n, "updates": updates, "cpuMs": cpu_ms() - c0,
                         "wallMs": (time.perf_counter() - w0) * 1000.0})
    stop.set()
    if duration > 0:
        sample()
    coord.stop()
    json.dump({"rows": rows, "rss": rss}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
