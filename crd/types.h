/* types: typed C structs for the drover.io/v1alpha1 kinds Host, VirtualMachine and Migration. */
#ifndef DROVER_CRD_TYPES_H
#define DROVER_CRD_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRD_GROUP       "drover.io"
#define CRD_VERSION     "v1alpha1"
#define CRD_API_VERSION "drover.io/v1alpha1"

enum crd_kind { CRD_KIND_HOST = 0, CRD_KIND_VM, CRD_KIND_MIGRATION };

/* Every enum has NAME_str() (never NULL; "" for an unset value) and NAME_parse() (0 or -1). */
enum crd_cond_status { CRD_COND_UNKNOWN = 0, CRD_COND_TRUE, CRD_COND_FALSE };
enum crd_domain_type { CRD_DOMAIN_KVM = 0, CRD_DOMAIN_QEMU };
enum crd_disk_format { CRD_DISK_QCOW2 = 0, CRD_DISK_RAW };
enum crd_disk_bus { CRD_BUS_VIRTIO = 0, CRD_BUS_SATA, CRD_BUS_IDE };
enum crd_iface_kind { CRD_IFACE_BRIDGE = 0, CRD_IFACE_NETWORK };
enum crd_storage { CRD_STORAGE_SHARED = 0, CRD_STORAGE_LOCAL };
enum crd_eviction { CRD_EVICT_LIVE_MIGRATE = 0, CRD_EVICT_LIVE_MIGRATE_IF_POSSIBLE, CRD_EVICT_NONE };
enum crd_compression { CRD_COMPRESS_NONE = 0, CRD_COMPRESS_ZSTD, CRD_COMPRESS_XBZRLE };
enum crd_migration_mode { CRD_MODE_AUTO = 0, CRD_MODE_LIVE, CRD_MODE_COLD };
/* Status enums: 0 means "not reported yet" and is omitted when encoding. */
enum crd_vm_phase {
	CRD_VM_PHASE_NONE = 0, CRD_VM_PENDING, CRD_VM_RUNNING, CRD_VM_STOPPED,
	CRD_VM_MIGRATING, CRD_VM_CONFLICT, CRD_VM_UNKNOWN,
};
enum crd_mig_phase {
	CRD_MIG_PHASE_NONE = 0, CRD_MIG_PENDING, CRD_MIG_SCHEDULING, CRD_MIG_PRECHECKING,
	CRD_MIG_RUNNING, CRD_MIG_SUCCEEDED, CRD_MIG_FAILED, CRD_MIG_CANCELLED,
};
enum crd_mig_run_mode {
	CRD_RUN_MODE_NONE = 0, CRD_RUN_PRECOPY, CRD_RUN_POSTCOPY, CRD_RUN_PAUSED, CRD_RUN_COLD,
};
/* Why a Migration exists: a user's request, or a move drover decided itself. */
enum crd_mig_reason {
	CRD_MIG_REASON_NONE = 0, CRD_MIG_REQUESTED, CRD_MIG_SPEC_HOST_CHANGED, CRD_MIG_DRAIN,
	CRD_MIG_BALANCE, CRD_MIG_FAILOVER,
};

const char *crd_kind_str(enum crd_kind v);
const char *crd_cond_status_str(enum crd_cond_status v);
const char *crd_domain_type_str(enum crd_domain_type v);
const char *crd_disk_format_str(enum crd_disk_format v);
const char *crd_disk_bus_str(enum crd_disk_bus v);
const char *crd_iface_kind_str(enum crd_iface_kind v);
const char *crd_storage_str(enum crd_storage v);
const char *crd_eviction_str(enum crd_eviction v);
const char *crd_compression_str(enum crd_compression v);
const char *crd_migration_mode_str(enum crd_migration_mode v);
const char *crd_vm_phase_str(enum crd_vm_phase v);
const char *crd_mig_phase_str(enum crd_mig_phase v);
const char *crd_mig_run_mode_str(enum crd_mig_run_mode v);
const char *crd_mig_reason_str(enum crd_mig_reason v);

#define CRD_WUR __attribute__((warn_unused_result))

/* The names of one enum, indexed by value ("" for an unset value); used by the decoder. */
struct crd_enum_desc { const char *const *names; size_t n; };
extern const struct crd_enum_desc crd_kind_desc, crd_iface_kind_desc, crd_domain_type_desc, crd_disk_format_desc, crd_disk_bus_desc,
	crd_storage_desc, crd_eviction_desc, crd_compression_desc, crd_migration_mode_desc,
	crd_cond_status_desc, crd_vm_phase_desc, crd_mig_phase_desc, crd_mig_run_mode_desc,
	crd_mig_reason_desc;

int crd_kind_parse(const char *s, enum crd_kind *out) CRD_WUR;
int crd_cond_status_parse(const char *s, enum crd_cond_status *out) CRD_WUR;
int crd_domain_type_parse(const char *s, enum crd_domain_type *out) CRD_WUR;
int crd_disk_format_parse(const char *s, enum crd_disk_format *out) CRD_WUR;
int crd_disk_bus_parse(const char *s, enum crd_disk_bus *out) CRD_WUR;
int crd_iface_kind_parse(const char *s, enum crd_iface_kind *out) CRD_WUR;
int crd_storage_parse(const char *s, enum crd_storage *out) CRD_WUR;
int crd_eviction_parse(const char *s, enum crd_eviction *out) CRD_WUR;
int crd_compression_parse(const char *s, enum crd_compression *out) CRD_WUR;
int crd_migration_mode_parse(const char *s, enum crd_migration_mode *out) CRD_WUR;
int crd_vm_phase_parse(const char *s, enum crd_vm_phase *out) CRD_WUR;
int crd_mig_phase_parse(const char *s, enum crd_mig_phase *out) CRD_WUR;
int crd_mig_run_mode_parse(const char *s, enum crd_mig_run_mode *out) CRD_WUR;
int crd_mig_reason_parse(const char *s, enum crd_mig_reason *out) CRD_WUR;

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
	CRD_KNOB_ALL = (1u << 8) - 1,
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
};
/* Fills @k with the defaults of Migration.spec and set = 0. This function can't fail. */
void crd_knobs_default(struct crd_knobs *k);
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
	struct crd_disk *disks;
	size_t n_disks;
	struct crd_interface *interfaces;
	size_t n_interfaces;
};
struct crd_vm_spec {
	char *host;                     /* pin; NULL when drover chooses */
	struct crd_pos host_pos;
	struct crd_map host_selector;
	bool running;                   /* default true */
	struct crd_domain domain;
	enum crd_storage storage;
	enum crd_eviction eviction;
	struct crd_knobs migration_policy;  /* set = 0 when absent; defaults filled in */
};
struct crd_vm_migration_ref { char *name; enum crd_mig_phase phase; int32_t percent; };
struct crd_vm_status {
	int64_t observed_generation;
	char *host;
	enum crd_vm_phase phase;
	struct crd_conditions conditions;
	struct crd_vm_migration_ref migration;  /* name NULL when none */
};
struct crd_vm {
	struct crd_meta meta;
	struct crd_vm_spec spec;
	struct crd_vm_status status;
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
	struct crd_mig_progress progress;
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

/* One object of any kind, as decoded from the API. */
struct crd_object {
	enum crd_kind kind;
	union {
		struct crd_host host;
		struct crd_vm vm;
		struct crd_migration migration;
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
};

/* Free functions release the members (not the struct itself) and zero it; all accept NULL. */
void crd_meta_free(struct crd_meta *m);
void crd_map_free(struct crd_map *m);
void crd_conditions_free(struct crd_conditions *c);
void crd_host_free(struct crd_host *h);
void crd_vm_free(struct crd_vm *vm);
void crd_migration_free(struct crd_migration *m);
void crd_object_free(struct crd_object *o);
void crd_set_free(struct crd_set *s);

/* Lookups by namespace (NULL = "default") and name. Return a pointer into the set, or NULL. */
const struct crd_host *crd_set_host(const struct crd_set *s, const char *ns, const char *name);
const struct crd_vm *crd_set_vm(const struct crd_set *s, const char *ns, const char *name);
const struct crd_migration *crd_set_migration(const struct crd_set *s, const char *ns,
					      const char *name);

/* Moves @o into the set (o is zeroed; the set owns it). Returns 0, or -1 when out of memory
 * (then @o is left unchanged and still owned by the caller). */
int crd_set_add(struct crd_set *s, struct crd_object *o) CRD_WUR;

/* Effective knobs of a migration of @vm: defaults, then @vm's migrationPolicy, then the fields
 * written in @mig (either may be NULL). This function can't fail. */
void crd_effective_knobs(const struct crd_vm *vm, const struct crd_migration *mig,
			 struct crd_knobs *out);

#endif
