/* inflight: the live moves under way in this process, by their hosts. Moves that share a
 * host share its CPUs and its network: a prediction counts the ones beside it (predict.h).
 * Thread-safe; nothing is allocated, so nothing fails. */
#ifndef DROVER_INFLIGHT_H
#define DROVER_INFLIGHT_H

/* One move under way: the caller's (e.g. on the stack of the thread running the move). */
struct inflight_move {
	const char *src, *dst;    /* host names; they outlive the entry */
	struct inflight_move *next;
};

/* Enters move @m from host @src to host @dst. Until inflight_leave, @m must stay where it
 * is. */
void inflight_enter(struct inflight_move *m, const char *src, const char *dst);

/* How many other moves under way now share @m's source or target. Moves a pass starts
 * together count each other once both have entered. */
unsigned inflight_beside(const struct inflight_move *m);

/* The move @m entered is over. */
void inflight_leave(struct inflight_move *m);

#endif
