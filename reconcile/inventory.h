/* inventory: what libvirt says exists — hosts, their resources and their domains.
 * Plain data: filled by observe (libvirt) or by tests, read by the pure planner. */
#ifndef DROVER_INVENTORY_H
#define DROVER_INVENTORY_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The XML namespace of the element drover writes into <metadata> of every domain it
 * defines: <drover:vm xmlns:drover="..." namespace="NS" name="NAME"/>. A domain carries
 * it = drover manages it; a domain of the same name without it is someone else's. */
#define INV_METADATA_URI "https://drover.io/xmlns/vm/v1alpha1"
#define INV_METADATA_KEY "drover"

/* virDomainState values, repeated here so the planner needs no libvirt header. */
enum inv_state {
	INV_NOSTATE = 0, INV_RUNNING = 1, INV_BLOCKED = 2, INV_PAUSED = 3,
	INV_SHUTDOWN = 4, INV_SHUTOFF = 5, INV_CRASHED = 6, INV_PMSUSPENDED = 7,
};

struct inv_disk {
	char *path;            /* source file or block device; NULL for network disks */
	char *target;          /* "vda" */
};

/* Tuning as a domain definition holds it (<memtune>, <blkiotune>, <disk><iotune>). */
#define INV_IO_FIELDS 6     /* total, read, write bytes/s; total, read, write IOPS */
struct inv_iotune {
	char *target;          /* "vda" */
	uint64_t v[INV_IO_FIELDS];  /* 0 = no limit; in the order of crd_io_bit */
};
struct inv_tuning {
	bool known;            /* read; false: not looked at, or libvirt could not tell */
	uint64_t hard_limit, soft_limit, swap_hard_limit, min_guarantee;  /* bytes; 0 = none */
	unsigned blkio_weight; /* 0 = not set */
	struct inv_iotune *disks;   /* the disks with a target, in document order */
	size_t n_disks;
};

/* What a definition says that only a restart of the guest makes true: compared between
 * the spec and the persistent definition (redefine) and between the definition and the
 * running guest (restart required). */
struct inv_facts {
	bool known;            /* read; false: not looked at, or the XML did not parse */
	char *type;            /* <domain type>: kvm, qemu */
	uint64_t memory;       /* <memory>, bytes */
	unsigned vcpus;
	char *kernel, *cmdline;     /* NULL when absent */
	bool hugepages;        /* <memoryBacking><hugepages/> */
	char **disks;          /* disk sources, in document order */
	size_t n_disks;
	char **ifaces;         /* "bridge:br0", "network:default", in document order */
	size_t n_ifaces;
};

struct inv_domain {
	char *name;
	char uuid[37];         /* canonical string form */
	enum inv_state state;
	bool active;           /* running or paused: a QEMU process exists */
	bool persistent;       /* has a persistent definition */
	bool job_active;       /* a libvirt job (e.g. a migration) is running on it */
	bool job_known;        /* observe asked libvirt for the job this pass (it does for every
				* domain a move may involve: see obs_inventory); false: job_active
				* is the last known answer, or false */
	bool migrating_in;     /* an incoming migration's target (paused, not yet resumed;
				* or running in post-copy, before the source lets go) */
	bool paused_out;       /* paused by an outgoing migration, with no job left: libvirt
				* could not confirm the move's end (e.g. it lost the target's
				* daemon) and left the source paused rather than risk two copies */
	/* Owner from drover's <metadata>; NULL when drover did not define it. */
	char *owner_namespace, *owner_name;
	uint64_t memory;       /* bytes of (maximum) memory */
	unsigned vcpus;
	uint64_t hugepage_size;  /* bytes of the huge pages backing its memory; 0 = none */
	struct inv_disk *disks;
	size_t n_disks;
	char **bridges;        /* <interface type='bridge'> sources */
	size_t n_bridges;
	char **networks;       /* <interface type='network'> sources */
	size_t n_networks;
	/* Tuning, read for drover's own domains only: of the persistent definition, and of
	 * the running guest when active (known false otherwise). */
	struct inv_tuning tuning_config, tuning_live;
	/* Also for drover's own domains: the persistent definition's facts and, when the
	 * running guest differs from them (a redefinition waits for a restart), why. */
	struct inv_facts facts;
	char *restart_why;     /* NULL: nothing waits for a restart */
	/* The domain exists (listed with its state) but its definition could not be read this
	 * pass (redefined or undefined meanwhile, a busy daemon, an XML refused): its owner
	 * and resources are unknown. The planner makes a VM of its name wait, never act. */
	bool definition_unknown;
};

struct inv_pool {
	char *name;
	char *path;            /* target directory */
	bool active;
	char **volumes;        /* volume paths */
	size_t n_volumes;
};

/* One huge page size of a host, summed over its NUMA cells (virNodeGetFreePages). */
#define INV_HUGEPAGE_SIZES_MAX 4
struct inv_hugepages {
	uint64_t page_size;    /* bytes */
	uint64_t total, free;  /* pages */
};

/* A field added to inv_host goes into inv_digest (invdigest.c) too, or a quiet pass would
 * not see it change; one added to inv_domain, into invpack. */
struct inv_host {
	char *name;            /* the Host object's name */
	bool reachable;
	/* Its fence agent confirmed it powered off (status.fencing, persisted by the controller):
	 * counts as spec.fenced does (safety rule 5). Not observed: the controller sets it. */
	bool fenced;
	/* When libvirt cannot be reached: a TCP connection to libvirtd's port at the migration
	 * address opened (the host is up, only its control path is not). */
	bool addr_alive;
	char *error;           /* why it is not reachable; NULL when reachable */
	char *hostname;
	char *hv_type;         /* "QEMU" */
	unsigned long hv_version;   /* major * 1000000 + minor * 1000 + micro */
	unsigned long lib_version;  /* libvirt's, same encoding */
	char *arch;            /* "x86_64" */
	char *cpu_model;       /* host CPU model from the capabilities */
	uint64_t memory_total, memory_free;  /* bytes */
	unsigned cpu_threads;  /* logical CPUs; 0 = not reported */
	bool has_cpu_load;     /* cpu_load was measured (needs two passes) */
	double cpu_load;       /* busy share of all threads over the last interval, 0..1 */
	struct inv_hugepages hugepages[INV_HUGEPAGE_SIZES_MAX];   /* huge sizes only */
	size_t n_hugepages;
	char **bridges;        /* bridges the host has (guests may attach to) */
	size_t n_bridges;
	char **networks;       /* active libvirt networks */
	size_t n_networks;
	struct inv_pool *pools;
	size_t n_pools;
	struct inv_domain *domains;
	size_t n_domains;
};

/* An action this drover is carrying out while it plans (the controller's job runner adds
 * them after observe: passes do not wait for jobs). The planner plans nothing else for the
 * VM, and a move counts against the migration limits. */
struct inv_job {
	char *vm_namespace, *vm_name;
	char *what;            /* "live-migrate lab-a → lab-b", for the reason */
	char *src, *dst;       /* hosts acted on; NULL when none */
	bool move;             /* a migration of any kind */
};

struct inventory {
	struct inv_host *hosts;
	size_t n_hosts;
	struct inv_job *jobs;
	size_t n_jobs;
};

/* Free functions release the members and zero the struct; all accept NULL. */
void inv_tuning_free(struct inv_tuning *t);
void inv_facts_free(struct inv_facts *f);
void inv_domain_free(struct inv_domain *d);
void inv_pool_free(struct inv_pool *p);
void inv_host_free(struct inv_host *h);
void inv_free(struct inventory *inv);

/* Drops what @d's definition said (owner, resources, tuning, facts) and marks it
 * definition_unknown; name, UUID, state and flags stay. This function can't fail. */
void inv_domain_forget_definition(struct inv_domain *d);

/* Fills @dst (overwritten, not freed) with a deep copy of @src. Returns 0, or -1 when out
 * of memory (then @dst is zeroed). */
int inv_domain_copy(struct inv_domain *dst, const struct inv_domain *src)
	__attribute__((warn_unused_result));

/* Appends a job (strings copied; @src and @dst may be NULL). Returns 0, or -1 when out of
 * memory (then @inv is unchanged). */
int inv_add_job(struct inventory *inv, const char *ns, const char *name, const char *what,
		const char *src, const char *dst, bool move) DROVER_WUR;

/* The job of VM @ns/@name, or NULL. This function can't fail. */
const struct inv_job *inv_job_of(const struct inventory *inv, const char *ns, const char *name);

/* Lookups. Return a pointer into the inventory, or NULL. */
const struct inv_host *inv_host_by_name(const struct inventory *inv, const char *name);
const struct inv_domain *inv_domain_by_name(const struct inv_host *h, const char *name);
const struct inv_domain *inv_domain_by_uuid(const struct inv_host *h, const char *uuid);
/* True when @d carries drover's metadata naming @ns/@name. This function can't fail. */
bool inv_domain_owned_by(const struct inv_domain *d, const char *ns, const char *name);
/* True when @list of @n strings contains @s. This function can't fail. */
bool inv_strv_has(char *const *list, size_t n, const char *s);
/* True when file @path sits directly in directory @dir (trailing slashes of @dir ignored):
 * a libvirt dir pool lists only the files of its own directory. This function can't fail. */
bool inv_path_in_dir(const char *path, const char *dir);
/* The pool of @h whose directory holds file @path, or NULL. */
const struct inv_pool *inv_pool_holding(const struct inv_host *h, const char *path);
/* True when some pool of @h lists volume @path. This function can't fail. */
bool inv_host_has_volume(const struct inv_host *h, const char *path);

#endif
