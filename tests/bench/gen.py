#!/usr/bin/python3
"""gen: a synthetic cluster for the benchmarks — manifests and libvirt test-driver node files.

Writes OUT/manifests/hosts.yaml, OUT/manifests/vms-NNN.yaml (at most --per-file VMs each:
drover reads manifest files of at most 4 MiB) and OUT/nodes/host-NNN.xml, one node file
per Host for libvirt's test driver (each Host's spec.uri is test:///OUT/nodes/host-NNN.xml).

VM i lives on host i % HOSTS. Most VMs are settled: defined there with drover's metadata,
running (or shut off when they are to stay stopped), half of them pinned by spec.host.
Every VM whose index falls in the --action-percent share needs work, alternately:
  new    unpinned and defined nowhere: placement chooses a host (define+start)
  repin  pinned to the next host but running on its own: a migration (most wait
         behind the concurrency limits, as they would in a real cluster)
Deterministic: the same arguments write the same files.
"""
import argparse
import os
import sys

NODE_MEMORY_KIB = 2 << 30          # 2 TiB per host: 500 VMs of 2.3Gi on average fit
VM_ROOM_KIB = 3 << 20              # per VM a host holds, when more than 2 TiB is needed
MEMORIES = ("1Gi", "2Gi", "4Gi")
MEMORY_KIB = {"1Gi": 1 << 20, "2Gi": 2 << 20, "4Gi": 4 << 20}
IMAGES = "/var/lib/libvirt/images"
METADATA_URI = "https://drover.io/xmlns/vm/v1alpha1"


def host_name(h):
    return "host-%03d" % h


def vm_name(i):
    return "vm-%06d" % i


def role(i, action_percent):
    """settled, stopped, new or repin, spread evenly over the indexes."""
    if action_percent > 0:
        every = max(1, round(100 / action_percent))
        if i % every == every // 2:
            return "new" if (i // every) % 2 == 0 else "repin"
    if i % 100 == 13:
        return "stopped"
    return "settled"


def host_doc(h, nodes_dir):
    name = host_name(h)
    return (
        "apiVersion: drover.io/v1alpha1\n"
        "kind: Host\n"
        "metadata:\n"
        "  name: %s\n"
        "  labels: {rack: r%d, zone: bench}\n"
        "spec:\n"
        "  uri: test://%s/%s.xml\n"
        "  migrationAddress: 10.%d.%d.1\n"
        "  reservedMemory: 4Gi\n" % (name, h % 10, nodes_dir, name, h // 250, h % 250)
    )


def vm_doc(i, n_hosts, kind):
    name = vm_name(i)
    mem = MEMORIES[i % 3]
    home = i % n_hosts
    lines = [
        "apiVersion: drover.io/v1alpha1",
        "kind: VirtualMachine",
        "metadata:",
        "  name: %s" % name,
        "  labels: {app: bench, tier: t%d}" % (i % 4),
        "spec:",
    ]
    if kind == "repin":
        lines.append("  host: %s" % host_name((home + 1) % n_hosts))
    elif kind != "new" and i % 2 == 0:
        lines.append("  host: %s" % host_name(home))
    elif i % 4 == 1:
        lines.append("  hostSelector: {zone: bench}")
    lines += [
        "  running: %s" % ("false" if kind == "stopped" else "true"),
        "  domain:",
        "    memory: %s" % mem,
        "    vcpus: %d" % (1 + i % 2),
        "    disks:",
        "      - path: %s/%s.qcow2" % (IMAGES, name),
        "  storage: local",
        "  evictionStrategy: LiveMigrateIfPossible",
    ]
    return "\n".join(lines) + "\n"


def domain_xml(i, kind):
    name = vm_name(i)
    mem = MEMORY_KIB[MEMORIES[i % 3]]
    state = "    <test:runstate>5</test:runstate>\n" if kind == "stopped" else ""
    # type='kvm', as the manifests' short form expands: with 'test' drover would redefine
    # every settled VM (its definition differs from the spec) before it is idle.
    return (
        "  <domain type='kvm' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
        "    <name>%s</name>\n"
        "    <uuid>00000000-0000-4000-8000-%012x</uuid>\n"
        "    <metadata><drover:vm xmlns:drover='%s' namespace='default' name='%s'/></metadata>\n"
        "    <memory unit='KiB'>%d</memory>\n"
        "    <vcpu>%d</vcpu>\n"
        "    <os><type arch='x86_64'>hvm</type></os>\n"
        "    <devices><disk type='file' device='disk'><source file='%s/%s.qcow2'/>"
        "<target dev='vda' bus='virtio'/></disk></devices>\n"
        "%s"
        "  </domain>\n" % (name, i, METADATA_URI, name, mem, 1 + i % 2, IMAGES, name, state)
    )


def node_memory_kib(vms, hosts):
    """2 TiB, or room for the host's share of the VMs (2.3Gi each on average) and some new
    ones: more VMs a host than 500 would leave placements blocked for memory alone."""
    return max(NODE_MEMORY_KIB, -(-vms // hosts) * VM_ROOM_KIB)


def node_head(memory_kib):
    return (
        "<node>\n"
        "  <cpu><mhz>2000</mhz><nodes>1</nodes><sockets>2</sockets><cores>32</cores>"
        "<threads>2</threads><active>128</active><model>x86_64</model></cpu>\n"
        "  <memory>%d</memory>\n"
        "  <pool type='dir'><name>default</name><target><path>%s</path></target></pool>\n"
        % (memory_kib, IMAGES)
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, required=True)
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--action-percent", type=float, default=5.0)
    ap.add_argument("--per-file", type=int, default=5000)
    ap.add_argument("out")
    a = ap.parse_args()
    if a.vms < 0 or not 1 <= a.hosts <= 1000 or a.per_file < 1:
        sys.exit("gen: --vms >= 0, 1 <= --hosts <= 1000, --per-file >= 1")

    out = os.path.abspath(a.out)
    man, nodes = os.path.join(out, "manifests"), os.path.join(out, "nodes")
    os.makedirs(man, exist_ok=True)
    os.makedirs(nodes, exist_ok=True)

    with open(os.path.join(man, "hosts.yaml"), "w") as f:
        f.write("---\n".join(host_doc(h, nodes) for h in range(a.hosts)))

    per_host = [[] for _ in range(a.hosts)]
    counts = {"settled": 0, "stopped": 0, "new": 0, "repin": 0}
    for start in range(0, a.vms, a.per_file):
        docs = []
        for i in range(start, min(a.vms, start + a.per_file)):
            kind = role(i, a.action_percent)
            counts[kind] += 1
            docs.append(vm_doc(i, a.hosts, kind))
            if kind != "new":
                per_host[i % a.hosts].append(domain_xml(i, kind))
        path = os.path.join(man, "vms-%03d.yaml" % (start // a.per_file))
        with open(path, "w") as f:
            f.write("---\n".join(docs))

    for h in range(a.hosts):
        with open(os.path.join(nodes, host_name(h) + ".xml"), "w") as f:
            f.write(node_head(node_memory_kib(a.vms, a.hosts)))
            f.writelines(per_host[h])
            f.write("</node>\n")
    print(" ".join("%s=%d" % kv for kv in counts.items()))


if __name__ == "__main__":
    main()
