/* kube_queue: a work queue of string keys ("namespace/name"), deduplicated and
 * level-triggered, with per-key exponential backoff — client-go's rate-limited workqueue. */
#ifndef DROVER_KUBE_QUEUE_H
#define DROVER_KUBE_QUEUE_H

#include "crd/compiler.h"

#include <stddef.h>

#define KUBE_QUEUE_KEY_MAX 512          /* bytes of one key, NUL included */

struct kube_queue_options {
	double base_delay_s;      /* first backoff (default 0.005) */
	double max_delay_s;       /* backoff cap (default 1000) */
	size_t max_keys;          /* distinct keys tracked at once (default 100000) */
};

struct kube_queue;

/* Defaults as documented on the struct. This function can't fail. */
void kube_queue_options_default(struct kube_queue_options *o);

/* Returns a new empty queue (@o NULL: defaults), or NULL when out of memory. Free it with
 * kube_queue_free once no thread uses it. */
struct kube_queue *kube_queue_new(const struct kube_queue_options *o) DROVER_WUR;

/* Frees @q; accepts NULL. */
void kube_queue_free(struct kube_queue *q);

/* Marks @key to be processed. A key already waiting is not added twice; a key being
 * processed is processed once more after kube_queue_done. Returns 0, or -1 when the key is
 * too long, the queue tracks max_keys keys, it is shut down, or out of memory. */
int kube_queue_add(struct kube_queue *q, const char *key) DROVER_WUR;

/* Adds @key after @delay_s seconds (an earlier pending time for the key wins). Returns 0 or
 * -1 as kube_queue_add. */
int kube_queue_add_after(struct kube_queue *q, const char *key, double delay_s) DROVER_WUR;

/* Adds @key after its backoff: base * 2^failures, capped; counts one more failure.
 * Returns 0 or -1 as kube_queue_add. */
int kube_queue_add_rate_limited(struct kube_queue *q, const char *key) DROVER_WUR;

/* The backoff @key would get now, counting one more failure (client-go's When). Returns
 * seconds, or -1 when the key cannot be tracked. */
double kube_queue_when(struct kube_queue *q, const char *key);

/* Clears the failures of @key (call after it was processed successfully). Can't fail. */
void kube_queue_forget(struct kube_queue *q, const char *key);

/* Failures counted for @key since the last forget. This function can't fail. */
int kube_queue_num_requeues(struct kube_queue *q, const char *key);

/* Takes the next key into @key (@len >= KUBE_QUEUE_KEY_MAX is always enough), waiting at
 * most @timeout_s. The key is "processing" until kube_queue_done. Returns 1 with a key, 0 on
 * timeout, -1 when the queue is shut down and empty. */
int kube_queue_get(struct kube_queue *q, double timeout_s, char *key, size_t len) DROVER_WUR;

/* Ends the processing of @key; if it was added meanwhile it is queued again. Can't fail. */
void kube_queue_done(struct kube_queue *q, const char *key);

/* Keys waiting now (not delayed ones, not those being processed). Can't fail. */
size_t kube_queue_len(struct kube_queue *q);

/* Refuses further adds and wakes every kube_queue_get; keys already queued are still handed
 * out. Can't fail. */
void kube_queue_shutdown(struct kube_queue *q);

#endif
