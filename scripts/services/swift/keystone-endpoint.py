#!/usr/bin/python3
"""Registers this Swift in Keystone (idempotent): service `swift` of type `object-store`, and
its public, internal and admin endpoints in RegionOne at $SWIFT_PUBLIC_URL (a keystoneauth
account URL, `…/v1/KEY_%(project_id)s`). An endpoint of another URL is updated."""
import os

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

URL = os.environ.get("KEYSTONE_URL", "http://127.0.0.1:5000/v3")
ENDPOINT = os.environ["SWIFT_PUBLIC_URL"]
REGION = os.environ.get("SWIFT_REGION", "RegionOne")
auth = v3.Password(auth_url=URL, username="admin", password="admin", project_name="admin",
                   user_domain_id="default", project_domain_id="default")
ks = client.Client(session=session.Session(auth=auth), interface="public")

found = ks.services.list(type="object-store")
svc = found[0] if found else ks.services.create(name="swift", type="object-store",
                                                description="Object Storage")
for iface in ("public", "internal", "admin"):
    have = ks.endpoints.list(service=svc, interface=iface, region=REGION)
    if not have:
        ks.endpoints.create(service=svc, url=ENDPOINT, interface=iface, region=REGION)
    elif have[0].url != ENDPOINT:
        ks.endpoints.update(have[0], url=ENDPOINT)
print("swift registered in Keystone:", ENDPOINT)
