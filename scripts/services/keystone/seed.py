#!/usr/bin/python3
"""Users, projects and roles of the test Keystone (idempotent). Passwords are the user names.

- admin: admin of project admin (and of the system, from keystone-manage bootstrap)
- gnocchi: a service user (role service, project service), as in other services' recipes
- gnocchi-api: the service user the tests' gnocchi-api validates tokens with (role service);
  its password is distinctive so that the tests can grep logs for it
- alice: member of project-a; carol: reader of project-a; bob: member of project-b
- dave: member of the domain default (domain-scoped tokens)
- demo: member of project demo (the recipe other services' tests use)
"""
import os

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

URL = os.environ.get("KEYSTONE_URL", "http://127.0.0.1:5000/v3")
auth = v3.Password(auth_url=URL, username="admin", password="admin", project_name="admin",
                   user_domain_id="default", project_domain_id="default")
ks = client.Client(session=session.Session(auth=auth), interface="public")


def role(name):
    found = ks.roles.list(name=name)
    return found[0] if found else ks.roles.create(name=name)


def project(name):
    found = ks.projects.list(name=name, domain="default")
    return found[0] if found else ks.projects.create(name=name, domain="default")


PASSWORDS = {"gnocchi-api": "gnocchi-api-Q7v2-secret"}


def user(name, default_project):
    found = ks.users.list(name=name, domain="default")
    if found:
        return found[0]
    return ks.users.create(name=name, password=PASSWORDS.get(name, name), domain="default",
                           default_project=default_project)


roles = {r: role(r) for r in ("admin", "member", "reader", "service")}
projects = {p: project(p) for p in ("service", "project-a", "project-b", "demo")}
grants = [
    ("gnocchi", "service", "service"),
    ("gnocchi-api", "service", "service"),
    ("alice", "project-a", "member"),
    ("carol", "project-a", "reader"),
    ("bob", "project-b", "member"),
    ("demo", "demo", "member"),
]
for name, proj, r in grants:
    u = user(name, projects[proj])
    ks.roles.grant(roles[r], user=u, project=projects[proj])
dave = user("dave", projects["project-a"])
ks.roles.grant(roles["member"], user=dave, domain="default")
print("seeded:", {p: projects[p].id for p in projects})
