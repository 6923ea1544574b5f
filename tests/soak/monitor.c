/* monitor: every 0.5 s, every host's libvirtd (through its unix socket, which no link fault
 * cuts), every guest's serial log and drover's RSS; every 5 s, drover's Migrations.
 * Checks, all the time: no guest runs on two hosts (two passes in a row, as the hosts are
 * read one after the other), no guest reports corrupt memory or two copies writing its
 * serial log at once, no Migration and no libvirt job outlives its bound, drover's RSS stays
 * under its bound. */
#include "tests/soak/soak.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "reconcile/clk.h"
#include "tests/lab/guestlog.h"
#include "tests/lab/lab.h"

#define PERIOD_S 0.5
#define RECORDS_EVERY 10        /* passes between two reads of the Migration records */
#define RECORDS_MAX 4096

struct record_seen {
	char name[128];
	double first;       /* when it was first seen */
	bool reported;      /* as outliving its bound */
	bool counted;       /* as succeeded */
};

const char *const soak_reasons[SOAK_REASONS] = {"Requested", "SpecHostChanged", "Drain",
						"Balance", "Failover", "other"};

static struct {
	struct monitor_cfg cfg;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	bool stop;                              /* guarded by lock */
	int drover_pid[SOAK_REPLICAS];          /* guarded by lock */
	struct monitor_view view;               /* guarded by lock */
	/* the thread's alone */
	virConnectPtr conn[SOAK_HOSTS];
	struct guestlog_watch *watch[SOAK_VMS];
	int last_host[SOAK_VMS];                /* where it was last seen running alone */
	int doubled[SOAK_VMS];                  /* passes in a row it ran on two hosts */
	bool doubled_said[SOAK_VMS], corrupt_said[SOAK_VMS], interleaved_said[SOAK_VMS];
	double job_since[SOAK_VMS];             /* 0: no job */
	bool job_said[SOAK_VMS];
	bool rss_said;
	struct record_seen records[RECORDS_MAX];
	size_t n_records;
} m = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void quiet(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

/* Host @h through its unix socket: LAB_DIR/hosts/NAME/run is its /run/libvirt. */
static virConnectPtr open_host(int h)
{
	char uri[700];

	snprintf(uri, sizeof(uri), "qemu+unix:///system?socket=%s/hosts/%s/run/libvirt-sock",
		 lab_dir(), lab_host_name(h));
	return virConnectOpen(uri);
}

/* One look at host @h: fills the view's row for it. Returns false when its libvirtd did
 * not answer. */
static bool sample_host(int h, struct monitor_view *v, bool job[SOAK_VMS],
			bool running[SOAK_VMS][SOAK_HOSTS])
{
	if (!m.conn[h] && !(m.conn[h] = open_host(h)))
		return false;
	for (int i = 0; i < SOAK_VMS; i++) {
		virDomainPtr d = virDomainLookupByName(m.conn[h], m.cfg.vms[i]);
		int state = 0, reason = 0;
		virDomainJobInfo info;

		if (!d) {
			if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
				continue;
			goto lost;
		}
		v->defined[i][h] = true;
		if (virDomainGetState(d, &state, &reason, 0) < 0) {
			virDomainFree(d);
			goto lost;
		}
		if (state == VIR_DOMAIN_RUNNING) {
			running[i][h] = true;
			v->running_on[i] = v->running_on[i] == -1 ? h : -2;
		}
		memset(&info, 0, sizeof(info));
		if (virDomainGetJobInfo(d, &info) == 0 && info.type != VIR_DOMAIN_JOB_NONE)
			job[i] = true;
		virDomainFree(d);
	}
	return true;
lost:
	virConnectClose(m.conn[h]);
	m.conn[h] = NULL;
	return false;
}

/* The hosts of @running, as text ("lab-a lab-b"). */
static void hosts_text(const bool running[SOAK_HOSTS], char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int h = 0; h < SOAK_HOSTS && len < size; h++)
		if (running[h])
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? " " : "",
						lab_host_name(h));
}

static void check_placement(struct monitor_view *v, const bool running[SOAK_VMS][SOAK_HOSTS],
			    const bool job[SOAK_VMS])
{
	double now = journal_now();

	for (int i = 0; i < SOAK_VMS; i++) {
		int at = v->running_on[i];
		char where[64];

		if (at == -2) {
			m.doubled[i]++;
			hosts_text(running[i], where, sizeof(where));
			if (m.doubled[i] >= 2 && !m.doubled_said[i]) {
				journal_violation("%s runs on two hosts: %s", m.cfg.vms[i], where);
				m.doubled_said[i] = true;
			}
		} else {
			m.doubled[i] = 0;
			m.doubled_said[i] = false;
		}
		if (at >= 0 && at != m.last_host[i]) {
			if (m.last_host[i] >= 0) {
				v->moves++;
				journal_event("monitor: %s now runs on %s (was %s)", m.cfg.vms[i],
					      lab_host_name(at), lab_host_name(m.last_host[i]));
			} else {
				journal_event("monitor: %s runs on %s", m.cfg.vms[i], lab_host_name(at));
			}
			m.last_host[i] = at;
		}
		if (job[i] && !m.job_since[i])
			m.job_since[i] = now;
		if (!job[i]) {
			m.job_since[i] = 0;
			m.job_said[i] = false;
		}
		if (job[i] && now - m.job_since[i] > m.cfg.migration_max_s && !m.job_said[i]) {
			journal_violation("a libvirt job on %s has run for over %.0f s", m.cfg.vms[i],
					  m.cfg.migration_max_s);
			m.job_said[i] = true;
		}
	}
}

static void check_guests(void)
{
	for (int i = 0; i < SOAK_VMS; i++) {
		struct guestlog_result r;

		if (!m.watch[i])
			continue;
		guestlog_follow_peek(m.watch[i], &r);
		if (r.max_corrupt && !m.corrupt_said[i]) {
			journal_violation("%s reports corrupt memory: %llu words", m.cfg.vms[i],
					  (unsigned long long)r.max_corrupt);
			m.corrupt_said[i] = true;
		}
		if (r.interleaved && !m.interleaved_said[i]) {
			journal_violation("%s: two copies wrote its serial log at once (heartbeat "
					  "counter went back without a boot)", m.cfg.vms[i]);
			m.interleaved_said[i] = true;
		}
	}
}

/* VmRSS of @pid in KiB, or -1. */
static long rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void check_rss(struct monitor_view *v, int pid)
{
	long kib = pid > 0 ? rss_kib(pid) : -1;

	if (kib > v->rss_max_kib)
		v->rss_max_kib = kib;
	if (kib > m.cfg.rss_max_kib && !m.rss_said) {
		journal_violation("drover's RSS is %ld KiB, over the bound of %ld KiB", kib,
				  m.cfg.rss_max_kib);
		m.rss_said = true;
	}
}

static struct record_seen *record_slot(const char *name)
{
	for (size_t i = 0; i < m.n_records; i++)
		if (!strcmp(m.records[i].name, name))
			return &m.records[i];
	if (m.n_records == RECORDS_MAX)
		return NULL;
	struct record_seen *r = &m.records[m.n_records++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->first = journal_now();
	r->reported = r->counted = false;
	return r;
}

static bool phase_ended(const char *phase)
{
	return phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed") ||
			 !strcmp(phase, "Cancelled"));
}

/* Counts a Migration seen Succeeded by its reason, once. */
static void count_success(struct monitor_view *v, struct record_seen *r,
			  const struct soak_migration *mig)
{
	int k = 0;

	if (!r || r->counted || strcmp(mig->phase, "Succeeded"))
		return;
	while (k < SOAK_REASONS - 1 && strcmp(mig->reason, soak_reasons[k]))
		k++;
	v->succeeded[k]++;
	r->counted = true;
}

/* Counts the Migrations not ended, and says which outlived the bound; -1 when they cannot
 * be listed (the count before stands). */
static int check_migrations(struct monitor_view *v)
{
	static struct soak_migration list[RECORDS_MAX];
	int n = m.cfg.migrations(list, RECORDS_MAX), unended = 0;

	for (int i = 0; i < n; i++) {
		const char *phase = list[i].phase;
		struct record_seen *r = record_slot(list[i].name);
		count_success(v, r, &list[i]);
		if (phase_ended(phase))
			continue;
		unended++;
		if (r && !r->reported && journal_now() - r->first > m.cfg.migration_max_s) {
			journal_violation("Migration %s is still %s after %.0f s", list[i].name,
					  phase[0] ? phase : "(no phase)", m.cfg.migration_max_s);
			r->reported = true;
		}
	}
	return n < 0 ? -1 : unended;
}

static void *monitor_main(void *arg)
{
	struct monitor_view v = {0};
	int unended = 0;
	(void)arg;

	for (unsigned long pass = 0;; pass++) {
		bool running[SOAK_VMS][SOAK_HOSTS] = {{false}}, job[SOAK_VMS] = {false};

		memset(v.defined, 0, sizeof(v.defined));
		for (int i = 0; i < SOAK_VMS; i++)
			v.running_on[i] = -1;
		for (int h = 0; h < SOAK_HOSTS; h++) {
			bool ok = sample_host(h, &v, job, running);
			if (ok != v.host_ok[h] || pass == 0)
				journal_event("monitor: %s's libvirtd %s", lab_host_name(h),
					      ok ? "answers" : "does not answer");
			v.host_ok[h] = ok;
		}
		for (int i = 0; i < SOAK_VMS; i++)
			v.job[i] = job[i];
		check_placement(&v, running, job);
		check_guests();
		int now = pass % RECORDS_EVERY == 0 ? check_migrations(&v) : -1;
		if (now >= 0)
			unended = now;
		v.unended = unended;
		pthread_mutex_lock(&m.lock);
		for (int r = 0; r < SOAK_REPLICAS; r++)
			check_rss(&v, m.drover_pid[r]);
		v.samples = pass + 1;
		m.view = v;
		bool stop = m.stop;
		pthread_mutex_unlock(&m.lock);
		if (stop)
			break;
		clk_sleep(PERIOD_S);
	}
	return NULL;
}

int monitor_start(const struct monitor_cfg *cfg)
{
	char serial[512];

	m.cfg = *cfg;
	virSetErrorFunc(NULL, quiet);
	for (int i = 0; i < SOAK_VMS; i++) {
		m.last_host[i] = -1;
		lab_serial_path(cfg->vms[i], serial, sizeof(serial));
		if (guestlog_follow_start(serial, &m.watch[i]) < 0)
			return -1;
	}
	if (pthread_create(&m.thread, NULL, monitor_main, NULL) != 0)
		return -1;
	m.started = true;
	return 0;
}

void monitor_set_drover(int slot, int pid)
{
	pthread_mutex_lock(&m.lock);
	m.drover_pid[slot] = pid;
	pthread_mutex_unlock(&m.lock);
}

void monitor_view(struct monitor_view *v)
{
	pthread_mutex_lock(&m.lock);
	*v = m.view;
	pthread_mutex_unlock(&m.lock);
}

void monitor_stop(void)
{
	if (m.started) {
		pthread_mutex_lock(&m.lock);
		m.stop = true;
		pthread_mutex_unlock(&m.lock);
		pthread_join(m.thread, NULL);
		m.started = false;
	}
	check_guests();
	for (int i = 0; i < SOAK_VMS; i++) {
		(void)guestlog_follow_stop(m.watch[i], NULL);
		m.watch[i] = NULL;
	}
	for (int h = 0; h < SOAK_HOSTS; h++)
		if (m.conn[h]) {
			virConnectClose(m.conn[h]);
			m.conn[h] = NULL;
		}
}
