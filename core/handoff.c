/*
 * handoff.c - sets of work handed from the run's thread to a writer
 * thread (pipeline_int.h): the run fills one set while the writer does
 * another; one set is handed at a time, and the next only once the
 * writer has taken the previous one, so with HANDOFF_SETS sets filled in
 * turn no set is ever filled and written at once.  A mutex and a
 * condition variable (POSIX threads); without a thread the set is
 * written at once on the caller's.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "pipeline_int.h"

static void *
handoff_main(void *arg)
{
	struct handoff *h = arg;
	cc_err err;
	int s;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->pending < 0 && !h->quit)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->pending < 0)
			break;
		s = h->pending;
		h->pending = -1;
		/* taken: the caller may hand the next one */
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
		/* h->err is written by this thread alone while it runs */
		err = h->write(h->arg, s, h->err != CC_OK);
		pthread_mutex_lock(&h->mu);
		if (h->err == CC_OK)
			h->err = err;
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

void
handoff_start(struct handoff *h, handoff_write write, void *arg, int thread)
{
	memset(h, 0, sizeof(*h));
	h->write = write;
	h->arg = arg;
	h->pending = -1;
	h->err = CC_OK;
	if (!thread)
		return;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (pthread_create(&h->th, NULL, handoff_main, h) != 0) {
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->cv);
		return;
	}
	h->on = 1;
}

cc_err
handoff_post(struct handoff *h, int set)
{
	cc_err err;

	if (!h->on) {
		err = h->write(h->arg, set, h->err != CC_OK);
		if (h->err == CC_OK)
			h->err = err;
		return h->err;
	}
	pthread_mutex_lock(&h->mu);
	while (h->pending >= 0)
		pthread_cond_wait(&h->cv, &h->mu);
	h->pending = set;
	err = h->err;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return err;
}

cc_err
handoff_end(struct handoff *h)
{
	if (h->on) {
		pthread_mutex_lock(&h->mu);
		h->quit = 1;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->th, NULL);
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->cv);
		h->on = 0;
	}
	return h->err;
}
