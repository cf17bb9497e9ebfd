#!/usr/bin/python3
"""Debian's Ceilometer and Aodh, unchanged, against a keystone-mode Gnocchi.ts.

  openstack_clients.py ceilometer <conf>   publishes the samples of a JSON list on stdin
  openstack_clients.py aodh <conf>         evaluates the rules of a JSON list on stdin

<conf> is a ceilometer.conf / aodh.conf with [service_credentials] (keystoneauth password
auth against the test Keystone). Both programs find Gnocchi in the Keystone catalog (service
type `metric`); the test Keystone is shared by tests running in parallel, so instead of
registering a transient endpoint there, the catalog lookup of `metric` answers $GNOCCHI_URL.
Everything else is the services' own code: ceilometer-upgrade's resource types, the
GnocchiPublisher (archive policies, batch measures with create_metrics, resource creation on
"Unknown resources", resource updates) and Aodh's three Gnocchi evaluators.

Prints one JSON document on stdout; logs go to stderr.
"""
import datetime
import json
import os
import sys
from urllib import parse

from keystoneauth1 import session as ks_session

GNOCCHI_URL = os.environ["GNOCCHI_URL"]
_get_endpoint = ks_session.Session.get_endpoint


def _endpoint(self, auth=None, **kwargs):
    if kwargs.get("service_type") == "metric":
        return GNOCCHI_URL
    return _get_endpoint(self, auth, **kwargs)


ks_session.Session.get_endpoint = _endpoint


def ceilometer(conf_file, samples):
    from ceilometer import gnocchi_client, sample, service
    from ceilometer.publisher import gnocchi

    conf = service.prepare_service(argv=[], config_files=[conf_file])
    gnocchi_client.upgrade_resource_types(conf)  # what ceilometer-upgrade does
    publisher = gnocchi.GnocchiPublisher(conf, parse.urlparse("gnocchi://?filter_project=service"))
    batches = {}
    for s in samples:
        batches.setdefault(s.pop("batch", 0), []).append(sample.Sample(**s))
    for key in sorted(batches):
        publisher.publish_samples(batches[key])
    return {"gnocchi_project_id": publisher.gnocchi_project_id}


def aodh(conf_file, rules):
    from aodh import service
    from aodh.evaluator import gnocchi, threshold

    conf = service.prepare_service(argv=[], config_files=[conf_file])
    kinds = {
        "gnocchi_resources_threshold": gnocchi.GnocchiResourceThresholdEvaluator,
        "gnocchi_aggregation_by_metrics_threshold":
            gnocchi.GnocchiAggregationMetricsThresholdEvaluator,
        "gnocchi_aggregation_by_resources_threshold":
            gnocchi.GnocchiAggregationResourcesThresholdEvaluator,
    }
    out = []
    for rule in rules:
        evaluator = kinds[rule["type"]](conf)
        try:
            stats = evaluator._statistics(rule, rule["start"], rule["stop"])
            # What the evaluator compares with the threshold.
            out.append({"statistics": stats, "sanitized": evaluator._sanitize(rule, stats)})
        except threshold.InsufficientDataError as e:
            out.append({"insufficient": str(e)})
    return out


def _json(o):
    if isinstance(o, datetime.datetime):
        return o.isoformat()
    raise TypeError(type(o))


if __name__ == "__main__":
    mode, conf_file = sys.argv[1], sys.argv[2]
    result = {"ceilometer": ceilometer, "aodh": aodh}[mode](conf_file, json.load(sys.stdin))
    json.dump(result, sys.stdout, default=_json)
