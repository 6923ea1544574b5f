/* types: typed C structs for the drover.io/v1alpha1 kinds Host, VirtualMachine, Migration and
 * PlacementPolicy. */
#ifndef DROVER_CRD_TYPES_H
#define DROVER_CRD_TYPES_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRD_GROUP       "drover.io"
#define CRD_VERSION     "v1alpha1"
#define CRD_API_VERSION "drover.io/v1alpha1"

enum crd_kind { CRD_KIND_HOST = 0, CRD_KIND_VM, CRD_KIND_MIGRATION, CRD_KIND_POLICY };
#define CRD_N_KINDS 4

/* Every enum has NAME_str() (never NULL; "" for an unset value) and NAME_parse() (0 or -1). */
enum crd_cond_status { CRD_COND_UNKNOWN = 0, CRD_COND_TRUE, CRD_COND_FALSE };
enum crd_domain_type { CRD_DOMAIN_KVM = 0, CRD_DOMAIN_QEMU };
enum crd_disk_format { CRD_DISK_QCOW2 = 0, CRD_DISK_RAW };
enum crd_disk_bus { CRD_BUS_VIRTIO = 0, CRD_BUS_SATA, CRD_BUS_IDE };
enum crd_iface_kind { CRD_IFACE_BRIDGE = 0, CRD_IFACE_NETWORK };
enum crd_storage { CRD_STORAGE_SHARED = 0, CRD_STORAGE_LOCAL };
enum crd_eviction { CRD_EVICT_LIVE_MIGRATE = 0, CRD_EVICT_LIVE_MIGRATE_IF_POSSIBLE, CRD_EVICT_NONE };
/* What libvirt 9.0's QEMU driver accepts as VIR_MIGRATE_PARAM_COMPRESSION (zstd and zlib
 * came with libvirt 9.4, for parallel migration only). */
enum crd_compression { CRD_COMPRESS_NONE = 0, CRD_COMPRESS_XBZRLE, CRD_COMPRESS_MT };
enum crd_transport { CRD_TRANSPORT_DIRECT = 0, CRD_TRANSPORT_TUNNELLED };
enum crd_encryption { CRD_ENCRYPT_NONE = 0, CRD_ENCRYPT_TLS };
enum crd_deletion_policy { CRD_DELETION_DELETE = 0, CRD_DELETION_RETAIN };
enum crd_migration_mode { CRD_MODE_AUTO = 0, CRD_MODE_LIVE, CRD_MODE_COLD };
/* Status enums: 0 means "not reported yet" and is omitted when encoding. */
enum crd_vm_phase {
	CRD_VM_PHASE_NONE = 0, CRD_VM_PENDING, CRD_VM_RUNNING, CRD_VM_STOPPED,
	CRD_VM_MIGRATING, CRD_VM_CONFLICT, CRD_VM_UNKNOWN,
	CRD_VM_ORPHANED,        /* directory mode: drover's domain, no longer declared */
};
enum crd_mig_phase {
	CRD_MIG_PHASE_NONE = 0, CRD_MIG_PENDING, CRD_MIG_SCHEDULING, CRD_MIG_PRECHECKING,
	CRD_MIG_RUNNING, CRD_MIG_SUCCEEDED, CRD_MIG_FAILED, CRD_MIG_CANCELLED,
};
enum crd_mig_run_mode {
	CRD_RUN_MODE_NONE = 0, CRD_RUN_PRECOPY, CRD_RUN_POSTCOPY, CRD_RUN_PAUSED, CRD_RUN_COLD,
};
/* Why a Migration exists (status.reason); NONE = not recorded. */
enum crd_mig_reason {
	CRD_MIG_REASON_NONE = 0, CRD_MIG_REQUESTED, CRD_MIG_SPEC_HOST_CHANGED, CRD_MIG_DRAIN,
	CRD_MIG_BALANCE, CRD_MIG_FAILOVER,
};
enum crd_balance_resource { CRD_BALANCE_MEMORY = 0, CRD_BALANCE_CPU };

const char *crd_kind_str(enum crd_kind v);
const char *crd_cond_status_str(enum crd_cond_status v);
const char *crd_domain_type_str(enum crd_domain_type v);
const char *crd_disk_format_str(enum crd_disk_format v);
const char *crd_disk_bus_str(enum crd_disk_bus v);
const char *crd_iface_kind_str(enum crd_iface_kind v);
const char *crd_storage_str(enum crd_storage v);
const char *crd_eviction_str(enum crd_eviction v);
const char *crd_deletion_policy_str(enum crd_deletion_policy v);
const char *crd_compression_str(enum crd_compression v);
const char *crd_transport_str(enum crd_transport v);
const char *crd_encryption_str(enum crd_encryption v);
const char *crd_migration_mode_str(enum crd_migration_mode v);
const char *crd_vm_phase_str(enum crd_vm_phase v);
const char *crd_mig_phase_str(enum crd_mig_phase v);
/* True for Succeeded, Failed and Cancelled: the Migration has ended and changes no more.
 * This function can't fail. */
bool crd_mig_phase_ended(enum crd_mig_phase p);
const char *crd_mig_run_mode_str(enum crd_mig_run_mode v);
const char *crd_mig_reason_str(enum crd_mig_reason v);
const char *crd_balance_resource_str(enum crd_balance_resource v);


/* The names of one enum, indexed by value ("" for an unset value); used by the decoder. */
struct crd_enum_desc { const char *const *names; size_t n; };
extern const struct crd_enum_desc crd_kind_desc, crd_iface_kind_desc, crd_domain_type_desc, crd_disk_format_desc, crd_disk_bus_desc,
	crd_storage_desc, crd_eviction_desc, crd_deletion_policy_desc, crd_compression_desc,
	crd_transport_desc, crd_encryption_desc, crd_migration_mode_desc, crd_cond_status_desc,
	crd_vm_phase_desc, crd_mig_phase_desc, crd_mig_run_mode_desc, crd_mig_reason_desc,
	crd_balance_resource_desc;

int crd_kind_parse(const char *s, enum crd_kind *out) DROVER_WUR;
int crd_cond_status_parse(const char *s, enum crd_cond_status *out) DROVER_WUR;
int crd_domain_type_parse(const char *s, enum crd_domain_type *out) DROVER_WUR;
int crd_disk_format_parse(const char *s, enum crd_disk_format *out) DROVER_WUR;
int crd_disk_bus_parse(const char *s, enum crd_disk_bus *out) DROVER_WUR;
int crd_iface_kind_parse(const char *s, enum crd_iface_kind *out) DROVER_WUR;
int crd_storage_parse(const char *s, enum crd_storage *out) DROVER_WUR;
int crd_eviction_parse(const char *s, enum crd_eviction *out) DROVER_WUR;
int crd_deletion_policy_parse(const char *s, enum crd_deletion_policy *out) DROVER_WUR;
int crd_compression_parse(const char *s, enum crd_compression *out) DROVER_WUR;
int crd_transport_parse(const char *s, enum crd_transport *out) DROVER_WUR;
int crd_encryption_parse(const char *s, enum crd_encryption *out) DROVER_WUR;
int crd_migration_mode_parse(const char *s, enum crd_migration_mode *out) DROVER_WUR;
int crd_vm_phase_parse(const char *s, enum crd_vm_phase *out) DROVER_WUR;
int crd_mig_phase_parse(const char *s, enum crd_mig_phase *out) DROVER_WUR;
int crd_mig_run_mode_parse(const char *s, enum crd_mig_run_mode *out) DROVER_WUR;
int crd_mig_reason_parse(const char *s, enum crd_mig_reason *out) DROVER_WUR;
int crd_balance_resource_parse(const char *s, enum crd_balance_resource *out) DROVER_WUR;

/* A position in the source file (1-based; 0 when unknown), kept for cross-document errors. */
struct crd_pos { int line, col; };

/* A string → string map in input order (labels, annotations, hostSelector). */
struct crd_kv { char *key; char *value; };
struct crd_map { struct crd_kv *items; size_t n; };
/* Returns the value for @key, or NULL. */
const char *crd_map_get(const struct crd_map *m, const char *key);

/* metav1.Condition. Timestamps stay RFC 3339 strings as written. */
struct crd_condition {
	char *type;
	enum crd_cond_status status;
	char *reason;
	char *message;
	char *last_transition_time;
	int64_t observed_generation;
};
struct crd_conditions { struct crd_condition *items; size_t n; };

struct crd_meta {
	char *name;
	char *namespace;                /* "default" when not given */
	struct crd_map labels;
	struct crd_map annotations;
	/* Set by the API server; NULL / 0 when absent. */
	char *uid;
	char *resource_version;
	int64_t generation;
	char *creation_timestamp;
	char *deletion_timestamp;
	char **finalizers;
	size_t n_finalizers;
	/* Where the object was read: file (or source label) and the document's position. */
	char *source;
	int line, col;
	struct crd_pos name_pos;
	/* Directory mode: which write or read of the object's status record its status is
	 * (statecache's token; 0: none). */
	uint64_t record_token;
};

/* ---- Host ---- */
/* How drover powers a failed host off: a Pacemaker fence agent, run with @options and the
 * password on its standard input. @agent is NULL when the Host has no spec.fencing. */
struct crd_secret_ref { char *name, *key; };   /* name NULL when absent */
struct crd_fencing {
	char *agent;                    /* "fence_ipmilan": ^fence_[a-z0-9_]+$ */
	struct crd_map options;
	char *password_file;            /* directory mode; NULL when not given */
	struct crd_secret_ref password_secret; /* Kubernetes mode */
	uint32_t timeout_s;             /* default CRD_FENCE_TIMEOUT_DEFAULT */
};
#define CRD_FENCE_TIMEOUT_DEFAULT 60
struct crd_host_spec {
	char *uri;
	char *migration_address;        /* NULL when not given */
	bool unschedulable, drain, fenced;
	uint64_t reserved_memory;       /* bytes */
	struct crd_fencing fencing;
};
/* The last fence drover ran on the host: "off", "Succeeded" | "Failed", RFC 3339. */
struct crd_fence_status { char *last_action, *result, *time; };
struct crd_hypervisor { char *type, *version, *libvirt_version, *arch, *cpu_model; };
struct crd_host_status {
	int64_t observed_generation;
	struct crd_conditions conditions;
	struct crd_hypervisor hypervisor;
	uint64_t memory_total, memory_free; /* bytes */
	struct crd_host_cpu { int64_t threads, allocated_vcpus; double load; } cpu; /* load 0..1 */
	struct crd_host_hugepages { uint64_t page_size; int64_t total, free; } hugepages;
	int64_t vms;
	struct crd_fence_status fencing;   /* last_action NULL when none ran */
};
struct crd_host {
	struct crd_meta meta;
	struct crd_host_spec spec;
	struct crd_host_status status;
};

/* ---- Migration knobs, shared by Migration.spec and VirtualMachine.spec.migrationPolicy ---- */
enum crd_knob_bit {
	CRD_KNOB_BANDWIDTH = 1u << 0, CRD_KNOB_MAX_DOWNTIME = 1u << 1,
	CRD_KNOB_COMPLETION_TIMEOUT = 1u << 2, CRD_KNOB_PROGRESS_TIMEOUT = 1u << 3,
	CRD_KNOB_AUTO_CONVERGE = 1u << 4, CRD_KNOB_POST_COPY = 1u << 5,
	CRD_KNOB_COMPRESSION = 1u << 6, CRD_KNOB_PARALLEL = 1u << 7,
	CRD_KNOB_TRANSPORT = 1u << 8, CRD_KNOB_ENCRYPTION = 1u << 9,
	CRD_KNOB_ALL = (1u << 10) - 1,
};
struct crd_knobs {
	unsigned set;                   /* CRD_KNOB_* bits of the fields written in the input */
	uint32_t bandwidth_mibps;       /* 0 = unlimited */
	uint32_t max_downtime_ms;       /* default 300 */
	uint32_t completion_timeout_per_gib_s; /* default 150; 0 = no limit */
	uint32_t progress_timeout_s;    /* default 150; 0 = no limit */
	bool allow_auto_converge;       /* default true */
	bool allow_post_copy;           /* default false */
	enum crd_compression compression;
	uint32_t parallel_connections;  /* 1..32, default 1 */
	enum crd_transport transport;   /* Direct: QEMU's own stream; Tunnelled: inside libvirtd's */
	enum crd_encryption encryption; /* TLS: QEMU's native TLS on the memory and disk stream */
};
/* Fills @k with the defaults of Migration.spec and set = 0. This function can't fail. */
void crd_knobs_default(struct crd_knobs *k);
/* Why libvirt (9.0, QEMU driver) would refuse a migration with knobs @k — tunnelled with
 * post-copy, with parallel connections, with QEMU's TLS, or with local disks to copy
 * (@copies_disks) — or NULL when it would not. Returns a static string. Pure. */
const char *crd_knobs_conflict(const struct crd_knobs *k, bool copies_disks);
/* Copies into @dst every knob whose bit is set in @src->set, and sets those bits in @dst. */
void crd_knobs_overlay(struct crd_knobs *dst, const struct crd_knobs *src);

/* ---- VirtualMachine ---- */
struct crd_disk { char *path; enum crd_disk_format format; enum crd_disk_bus bus; };
struct crd_interface { enum crd_iface_kind kind; char *name; /* bridge or network name */ };
struct crd_domain {
	char *xml;                      /* full form; NULL when the short form is used */
	/* Short form (zero when xml is set). */
	uint64_t memory;                /* bytes */
	uint32_t vcpus;
	enum crd_domain_type type;
	char *kernel, *cmdline, *serial_path;   /* NULL when not given */
	bool hugepages;                 /* back memory by the hosts' default huge pages */
	char *cpu;                      /* "host-model" or a CPU model name; NULL: the default */
	struct crd_disk *disks;
	size_t n_disks;
	struct crd_interface *interfaces;
	size_t n_interfaces;
};
/* One (anti-)affinity term: against VMs whose labels match @selector, in the same domain of
 * @topology_key ("host", or a Host label key such as "rack"). */
#define CRD_AFFINITY_TERMS_MAX 16
struct crd_affinity_term {
	struct crd_map selector;        /* labelSelector: every pair must match */
	char *topology_key;             /* "host" when not given */
	bool required;                  /* false: preferred */
};
struct crd_affinity {
	struct crd_affinity_term *anti, *together;   /* antiAffinity, affinity */
	size_t n_anti, n_together;
};
/* spec.tuning: KVM tuning kept converged. Only the fields written are enforced (a field
 * left out is whatever the domain has); each struct's @set says which were written. */
enum crd_tune_bit {
	CRD_TUNE_HARD_LIMIT = 1u << 0, CRD_TUNE_SOFT_LIMIT = 1u << 1,
	CRD_TUNE_SWAP_HARD_LIMIT = 1u << 2, CRD_TUNE_MIN_GUARANTEE = 1u << 3,
	CRD_TUNE_BLKIO_WEIGHT = 1u << 4,
};
enum crd_io_bit {
	CRD_IO_TOTAL_BYTES = 1u << 0, CRD_IO_READ_BYTES = 1u << 1, CRD_IO_WRITE_BYTES = 1u << 2,
	CRD_IO_TOTAL_IOPS = 1u << 3, CRD_IO_READ_IOPS = 1u << 4, CRD_IO_WRITE_IOPS = 1u << 5,
};
#define CRD_IO_FIELDS 6
struct crd_disk_io {
	char *target;                   /* "vda": a disk target of the domain */
	unsigned set;                   /* CRD_IO_* bits */
	uint64_t v[CRD_IO_FIELDS];      /* by bit index: bytes/s or I/O operations/s; 0 = no limit */
};
struct crd_tuning {
	unsigned set;                   /* CRD_TUNE_* bits */
	uint64_t hard_limit, soft_limit, swap_hard_limit, min_guarantee;  /* bytes */
	uint32_t blkio_weight;          /* 100..1000 */
	struct crd_disk_io *disk_io;
	size_t n_disk_io;
};
/* True when @t asks for anything. This function can't fail. */
bool crd_tuning_any(const struct crd_tuning *t);

struct crd_vm_spec {
	char *host;                     /* pin; NULL when drover chooses */
	struct crd_pos host_pos;
	struct crd_map host_selector;
	bool running;                   /* default true */
	struct crd_domain domain;
	enum crd_storage storage;
	enum crd_eviction eviction;
	struct crd_knobs migration_policy;  /* set = 0 when absent; defaults filled in */
	struct crd_affinity affinity;
	struct crd_tuning tuning;       /* set = 0 and no disk_io when absent */
	/* What deleting the object does (Kubernetes mode): Delete stops and undefines the
	 * domain (disks kept), Retain removes drover's metadata and leaves it alone. */
	enum crd_deletion_policy deletion_policy;
};
struct crd_vm_migration_ref { char *name; enum crd_mig_phase phase; int32_t percent; };
struct crd_vm_status {
	int64_t observed_generation;
	char *host;
	enum crd_vm_phase phase;
	struct crd_conditions conditions;
	struct crd_vm_migration_ref migration;  /* name NULL when none */
	/* status.placement: why the host was chosen, why each other one was not. */
	struct crd_vm_placement { char *reason; struct crd_map rejected; } placement;
};
struct crd_vm {
	struct crd_meta meta;
	struct crd_vm_spec spec;
	struct crd_vm_status status;
	/* Asked to restart in place (`drover restart`): shut down gracefully and started again
	 * on the same host, so a new definition takes effect. Never encoded. */
	bool restart_requested;
};

/* ---- Migration ---- */
struct crd_migration_spec {
	char *vm_name;
	char *target_host;              /* NULL: drover chooses */
	struct crd_pos vm_name_pos, target_host_pos;
	enum crd_migration_mode mode;
	struct crd_knobs knobs;         /* defaults filled in; set says which were written */
	bool cancel;
};
/* Migration.status.prediction: made before a live move starts. */
struct crd_mig_prediction {
	bool set;                       /* false: no prediction (cold, taken over, no measure) */
	uint32_t duration_s;           /* whole seconds, rounded up */
	uint64_t duration_ms;          /* the same to the millisecond (a move may take less
					* than one second) */
	bool converges;
	uint64_t dirty_rate_bps;
	/* Other live moves sharing this one's source or target, under way in the same drover
	 * when it was predicted: on hosts short of CPU or network they slow each other, and the
	 * moves learnt from are compared at the same count (pred_fixed_ms). */
	uint32_t concurrent_moves;
};
/* What a finished live move took, from the migration job's completed statistics: the
 * whole job (libvirt's, from its first step to the guest resumed on the target) and the
 * part of it the stream sent data (QEMU's, its setup left out). What is left, the fixed
 * part of a move (the target's QEMU started, handshakes), is what the next prediction of a
 * move to that host adds. */
struct crd_mig_statistics {
	bool set;
	uint64_t elapsed_ms, transfer_ms;
	uint64_t transferred_bytes;
};
struct crd_mig_progress {
	uint64_t data_total_bytes, data_processed_bytes, data_remaining_bytes;
	uint64_t memory_dirty_rate_bps, transfer_rate_bps;
	uint64_t iteration;
	int32_t percent;
};
/* When a Migration entered a phase (status.phaseTransitionTimestamps[], as KubeVirt's
 * VirtualMachineInstanceMigration). A Migration passes through at most 7 phases; the cap
 * bounds a record that keeps going back and forth, and the oldest entries give way. */
#define CRD_MIG_TRANSITIONS_MAX 16
struct crd_mig_transition {
	enum crd_mig_phase phase;
	char *time;                     /* RFC 3339 */
};
struct crd_migration_status {
	int64_t observed_generation;
	enum crd_mig_phase phase;
	enum crd_mig_reason reason;
	struct crd_mig_transition transitions[CRD_MIG_TRANSITIONS_MAX];  /* oldest first */
	size_t n_transitions;
	char *source_host, *target_host;
	enum crd_mig_run_mode mode;
	char *start_time, *end_time;    /* RFC 3339 */
	struct crd_mig_prediction prediction;
	struct crd_mig_progress progress;
	struct crd_mig_statistics statistics;   /* set once a live move succeeded */
	int64_t downtime_ms;
	char *failure_reason;
	struct crd_conditions conditions;
};
struct crd_migration {
	struct crd_meta meta;
	struct crd_migration_spec spec;
	struct crd_migration_status status;
	/* Directory mode: no manifest or request declares it; it joined the set as the record of
	 * a move that never ended (drover's own, or one whose manifest went). Never encoded. */
	bool undeclared;
};

/* ---- PlacementPolicy: at most one per namespace, named "default" ---- */
#define CRD_POLICY_NAME "default"
struct crd_balance {
	enum crd_balance_resource resource;
	uint32_t max_spread_percent;    /* default 20 */
	uint32_t max_moves_per_hour;    /* default 12 */
};
struct crd_host_failure {
	uint32_t detect_after_s;        /* default 30 */
	bool fence;                     /* default false: fencing is asked for, never assumed */
};
struct crd_policy_spec {
	double cpu_overcommit;          /* vCPUs per host CPU thread; 0 = unlimited (default) */
	double memory_overcommit;       /* VM memory per byte of host memory; default 1.0 */
	bool has_balance;
	struct crd_balance balance;
	bool has_host_failure;
	struct crd_host_failure host_failure;   /* defaults filled in when absent */
};
struct crd_policy {
	struct crd_meta meta;
	struct crd_policy_spec spec;
};
/* Fills @s with the defaults of an absent or empty PlacementPolicy. This function can't fail. */
void crd_policy_spec_default(struct crd_policy_spec *s);

/* One object of any kind, as decoded from the API. */
struct crd_object {
	enum crd_kind kind;
	union {
		struct crd_host host;
		struct crd_vm vm;
		struct crd_migration migration;
		struct crd_policy policy;
	} u;
};

/* Everything read from a set of manifests. Each array is owned by the set. */
struct crd_set {
	struct crd_host *hosts;
	size_t n_hosts;
	struct crd_vm *vms;
	size_t n_vms;
	struct crd_migration *migrations;
	size_t n_migrations;
	struct crd_policy *policies;
	size_t n_policies;
	/* The room allocated for each array, crd_set_add's: it grows them by half again (one
	 * realloc per object made loading 10,000 VMs copy their array thousands of times). A
	 * set built by hand leaves these 0, and the next add makes room. */
	struct { size_t hosts, vms, migrations, policies; } room;
};

/* Free functions release the members (not the struct itself) and zero it; all accept NULL. */
void crd_meta_free(struct crd_meta *m);
void crd_map_free(struct crd_map *m);
void crd_conditions_free(struct crd_conditions *c);
void crd_host_free(struct crd_host *h);
void crd_vm_free(struct crd_vm *vm);
void crd_migration_free(struct crd_migration *m);
void crd_policy_free(struct crd_policy *p);
void crd_object_free(struct crd_object *o);
void crd_set_free(struct crd_set *s);

/* Lookups by namespace (NULL = "default") and name. Return a pointer into the set, or NULL. */
const struct crd_host *crd_set_host(const struct crd_set *s, const char *ns, const char *name);
const struct crd_vm *crd_set_vm(const struct crd_set *s, const char *ns, const char *name);
const struct crd_migration *crd_set_migration(const struct crd_set *s, const char *ns,
					      const char *name);
/* The PlacementPolicy of namespace @ns (NULL = "default"), or NULL when it has none. */
const struct crd_policy *crd_set_policy(const struct crd_set *s, const char *ns);

/* Moves @o into the set (o is zeroed; the set owns it). Returns 0, or -1 when out of memory
 * (then @o is left unchanged and still owned by the caller). */
int crd_set_add(struct crd_set *s, struct crd_object *o) DROVER_WUR;

/* Effective knobs of a migration of @vm: defaults, then @vm's migrationPolicy, then the fields
 * written in @mig (either may be NULL). This function can't fail. */
void crd_effective_knobs(const struct crd_vm *vm, const struct crd_migration *mig,
			 struct crd_knobs *out);

#endif
