#!/usr/bin/python3
"""Drives the kubeapi test server with the official Python client (python3-kubernetes), a
second real client next to kubectl: run by tests/lab/test_kubeapi_python.c, one check per run.

usage: kubeapi_client.py KUBECONFIG CHECK    (CHECK: list, watch, relist, status, lease)
Exits 0 when the check holds; prints what it saw otherwise.
"""
import datetime
import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

GROUP, VERSION, NS, PLURAL = "drover.io", "v1alpha1", "default", "virtualmachines"


def vm(name, host="kvm-a"):
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachine",
            "metadata": {"name": name, "labels": {"suite": "python"}},
            "spec": {"host": host, "running": True}}


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)


def crs():
    return client.CustomObjectsApi()


def create(name, host="kvm-a"):
    return crs().create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, vm(name, host))


def check_list():
    for i in range(3):
        create(f"py-list-{i}")
    got = crs().list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, label_selector="suite=python")
    names = sorted(o["metadata"]["name"] for o in got["items"])
    check(names[:3] == ["py-list-0", "py-list-1", "py-list-2"], f"list names {names}")
    check(int(got["metadata"]["resourceVersion"]) > 0, "list resourceVersion")
    page = crs().list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, limit=1)
    check(len(page["items"]) == 1 and page["metadata"].get("continue"), "limit=1 gives a continue token")


def check_watch():
    start = crs().list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)["metadata"]["resourceVersion"]
    create("py-watch-1")
    crs().patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "py-watch-1", {"spec": {"host": "kvm-b"}})
    crs().delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "py-watch-1")
    seen, bookmarks = [], 0
    w = watch.Watch()
    # watch=True is what this client sends: it must be a watch, not a list.
    for ev in w.stream(crs().list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL,
                       resource_version=start, allow_watch_bookmarks=True, timeout_seconds=10):
        if ev["type"] == "BOOKMARK":
            bookmarks += 1
            check(int(ev["raw_object"]["metadata"]["resourceVersion"]) >= int(start), "bookmark resourceVersion")
            w.stop()
            continue
        if ev["raw_object"]["metadata"]["name"] == "py-watch-1":
            seen.append(ev["type"])
    check(seen == ["ADDED", "MODIFIED", "DELETED"], f"events {seen}")
    check(bookmarks == 1, "a bookmark once the stream is idle")


def check_relist():
    old = crs().list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)["metadata"]["resourceVersion"]
    create("py-relist-1")
    compact()
    try:
        for _ in watch.Watch().stream(crs().list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL,
                                      resource_version=old, timeout_seconds=5):
            pass
        check(False, "a watch from a compacted resourceVersion must fail")
    except ApiException as e:
        check(e.status == 410, f"410 Gone, got {e.status}")
    # The client's recovery: list again, watch from the list's resourceVersion.
    listed = crs().list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)
    check("py-relist-1" in [o["metadata"]["name"] for o in listed["items"]], "relist sees the object")
    w = watch.Watch()
    create("py-relist-2")
    types = []
    for ev in w.stream(crs().list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL,
                       resource_version=listed["metadata"]["resourceVersion"], timeout_seconds=5):
        if ev["type"] != "BOOKMARK":
            types.append((ev["type"], ev["raw_object"]["metadata"]["name"]))
            w.stop()
    check(types == [("ADDED", "py-relist-2")], f"after relist {types}")


def compact():
    """POST /_test/compact with the kubeconfig's credentials, through the client's own pool."""
    api = client.ApiClient()
    api.call_api("/_test/compact", "POST", auth_settings=["BearerToken"], _preload_content=False)


def check_status():
    created = create("py-status-1")
    gen = created["metadata"]["generation"]
    got = crs().patch_namespaced_custom_object_status(GROUP, VERSION, NS, PLURAL, "py-status-1",
                                                      {"status": {"phase": "Running", "host": "kvm-a"}})
    check(got["status"]["phase"] == "Running", "status patched")
    check(got["metadata"]["generation"] == gen, "a status patch keeps generation")
    got = crs().patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, "py-status-1",
                                               {"status": {"phase": "Nope"}, "spec": {"host": "kvm-b"}})
    check(got["status"]["phase"] == "Running", "the main resource ignores status")
    check(got["metadata"]["generation"] == gen + 1, "a spec change bumps generation")
    read = crs().get_namespaced_custom_object_status(GROUP, VERSION, NS, PLURAL, "py-status-1")
    check(read["status"]["host"] == "kvm-a", "status read back")


def check_lease():
    api = client.CoordinationV1Api()
    now = datetime.datetime.now(datetime.timezone.utc)
    lease = client.V1Lease(metadata=client.V1ObjectMeta(name="py-lease"),
                           spec=client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15,
                                                   acquire_time=now, renew_time=now, lease_transitions=0))
    made = api.create_namespaced_lease(NS, lease)
    check(made.spec.holder_identity == "a" and made.spec.renew_time is not None, "lease created")
    made.spec.holder_identity = "b"
    made.spec.lease_transitions = 1
    made.spec.renew_time = now + datetime.timedelta(seconds=5)
    updated = api.replace_namespaced_lease("py-lease", NS, made)
    check(updated.spec.holder_identity == "b" and updated.spec.lease_transitions == 1, "lease replaced")
    check(updated.metadata.resource_version != made.metadata.resource_version, "new resourceVersion")
    # Replacing from the stale copy is a conflict, as leader election relies on.
    made.spec.holder_identity = "c"
    try:
        api.replace_namespaced_lease("py-lease", NS, made)
        check(False, "a stale lease update must conflict")
    except ApiException as e:
        check(e.status == 409, f"409 Conflict, got {e.status}")


CHECKS = {"list": check_list, "watch": check_watch, "relist": check_relist, "status": check_status,
          "lease": check_lease}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CHECKS:
        print(__doc__)
        return 2
    config.load_kube_config(config_file=sys.argv[1])
    CHECKS[sys.argv[2]]()
    print(f"ok {sys.argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
