// SPDX-License-Identifier: GPL-2.0
/*
 * qda_libtest: scenarios the Hexagon SDK examples do not cover, run through
 * Qualcomm's FastRPC library (QDA backend) against qda in the test guest.
 *
 *   qda_libtest multisession
 *       One process, two sessions on cdsp (the default session 0 and one
 *       reserved with FASTRPC_RESERVE_NEW_SESSION), each with its own
 *       calculator handle; each sums and maxes its own array.
 *   qda_libtest ssr KNOB
 *       A calculator session on cdsp; a thread keeps calling it while the
 *       simulated DSP is crashed by writing "crash" to KNOB (the simulator's
 *       debugfs fault knob). The calls must fail, not hang; afterwards a new
 *       session in the same process must compute correct results again.
 *   qda_libtest bench CALLS BYTES
 *       A calculator session on cdsp: CALLS sums of one element (round
 *       trips), then CALLS sums of a BYTES-long vector from malloc (copied
 *       by the kernel) and from rpcmem (passed zero copy). Each sum is
 *       checked; prints "qda_libtest: bench <what> <value> <unit>" lines.
 *       Built once, it runs against either build of the library
 *       (LD_LIBRARY_PATH/LD_PRELOAD pick it), so `make bench` compares
 *       drivers with the same binary.
 *
 * Uses the calculator stub the library ships (test/linux/libcalculator.so)
 * and its DSP skel. Every result is checked against a value computed here.
 * Prints "qda_libtest: PASS <scenario>" and exits 0 only on success; every
 * failure is printed with the library's error code.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "remote.h"
#include "rpcmem.h"

/* The calculator stub's interface (calculator.idl of the Hexagon SDK). */
int calculator_open(const char *uri, remote_handle64 *h);
int calculator_close(remote_handle64 h);
int calculator_sum(remote_handle64 h, const int *vec, int len, int64_t *res);
int calculator_max(remote_handle64 h, const int *vec, int len, int *res);

#define CALC_URI "file:///libcalculator_skel.so?calculator_skel_handle_invoke&_modver=1.0"

static int failures;
/* Set while retrying: failed attempts are neither printed nor counted. */
static int retrying;

#define FAIL(...)                                                    \
	do {                                                         \
		if (!retrying) {                                     \
			printf("qda_libtest: FAIL: " __VA_ARGS__);   \
			printf("\n");                                \
			failures++;                                  \
		}                                                    \
	} while (0)

/* The URI that opens the calculator in session `session` of cdsp. */
static int session_uri(uint32_t session, char *uri, uint32_t len)
{
	char dom[] = CDSP_DOMAIN_NAME;
	char mod[] = CALC_URI;
	remote_rpc_get_uri_t req = {
		.domain_name = dom,
		.domain_name_len = strlen(dom),
		.session_id = session,
		.module_uri = mod,
		.module_uri_len = strlen(mod),
		.uri = uri,
		.uri_len = len,
	};
	int err = remote_session_control(FASTRPC_GET_URI, &req, sizeof(req));

	if (err)
		FAIL("FASTRPC_GET_URI for session %u: 0x%x", session, err);
	return err;
}

/* Asks for an unsigned PD on `domain` (an effective domain id). */
static int unsigned_pd(int domain)
{
	struct remote_rpc_control_unsigned_module req = { .domain = domain, .enable = 1 };
	int err = remote_session_control(DSPRPC_CONTROL_UNSIGNED_MODULE, &req, sizeof(req));

	if (err)
		FAIL("DSPRPC_CONTROL_UNSIGNED_MODULE for domain %d: 0x%x", domain, err);
	return err;
}

static int effective_domain(uint32_t session, uint32_t *id)
{
	char dom[] = CDSP_DOMAIN_NAME;
	remote_rpc_effective_domain_id_t req = {
		.domain_name = dom,
		.domain_name_len = strlen(dom),
		.session_id = session,
	};
	int err = remote_session_control(FASTRPC_GET_EFFECTIVE_DOMAIN_ID, &req, sizeof(req));

	if (err)
		FAIL("FASTRPC_GET_EFFECTIVE_DOMAIN_ID for session %u: 0x%x", session, err);
	*id = req.effective_domain_id;
	return err;
}

/* Opens the calculator in `session` of cdsp (unsigned PD). */
static int open_calc(uint32_t session, remote_handle64 *h)
{
	char uri[sizeof(CALC_URI) + 64];
	uint32_t dom;
	int err;

	if (effective_domain(session, &dom) || unsigned_pd(dom) ||
	    session_uri(session, uri, sizeof(uri)))
		return -1;
	if (!retrying)
		printf("qda_libtest: session %u: effective domain %u, URI %s\n", session, dom, uri);
	err = calculator_open(uri, h);
	if (err)
		FAIL("calculator_open(%s): 0x%x", uri, err);
	return err;
}

/* Sums and maxes 0..n-1 shifted by `base` on `h`; checks both results. */
static int check_calc(remote_handle64 h, const char *who, int base, int n)
{
	int *v = malloc(n * sizeof(*v));
	int64_t sum = 0, want_sum = 0;
	int max = 0, want_max = base + n - 1, err;

	if (!v) {
		FAIL("%s: out of memory", who);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		v[i] = base + i;
		want_sum += v[i];
	}
	err = calculator_sum(h, v, n, &sum);
	if (!err)
		err = calculator_max(h, v, n, &max);
	free(v);
	if (err) {
		FAIL("%s: calculator call: 0x%x", who, err);
		return err;
	}
	printf("qda_libtest: %s: sum of %d..%d = %lld (want %lld), max = %d (want %d)\n", who,
	       base, base + n - 1, (long long)sum, (long long)want_sum, max, want_max);
	if (sum != want_sum || max != want_max) {
		FAIL("%s: wrong result", who);
		return -1;
	}
	return 0;
}

static int multisession(void)
{
	char dom[] = CDSP_DOMAIN_NAME, name[] = "qda_libtest_1";
	remote_rpc_reserve_new_session_t res = {
		.domain_name = dom,
		.domain_name_len = strlen(dom),
		.session_name = name,
		.session_name_len = strlen(name),
	};
	remote_handle64 h0 = 0, h1 = 0;
	int err;

	err = remote_session_control(FASTRPC_RESERVE_NEW_SESSION, &res, sizeof(res));
	if (err) {
		FAIL("FASTRPC_RESERVE_NEW_SESSION: 0x%x", err);
		return 1;
	}
	printf("qda_libtest: reserved session %u (effective domain %u)\n", res.session_id,
	       res.effective_domain_id);
	if (res.session_id == 0)
		FAIL("the reserved session is the default session 0");
	if (open_calc(0, &h0) == 0 && open_calc(res.session_id, &h1) == 0) {
		/* Interleaved, so each handle must keep its own PD. */
		check_calc(h0, "session 0", 0, 1000);
		check_calc(h1, "session 1", 5000, 300);
		check_calc(h0, "session 0 again", -20, 41);
		check_calc(h1, "session 1 again", 7, 1);
	}
	if (h1 && (err = calculator_close(h1)))
		FAIL("calculator_close(session %u): 0x%x", res.session_id, err);
	if (h0 && (err = calculator_close(h0)))
		FAIL("calculator_close(session 0): 0x%x", err);
	return failures != 0;
}

struct load {
	remote_handle64 h;
	atomic_int ok;      /* correct results */
	atomic_int failed;  /* calls that returned an error */
	atomic_int wrong;   /* calls that returned a wrong value */
	int last_err;
};

static void *call_until_failure(void *arg)
{
	struct load *l = arg;
	int v[3] = { 4, 5, 6 };

	for (;;) {
		int64_t sum = 0;
		int err = calculator_sum(l->h, v, 3, &sum);

		if (err) {
			l->last_err = err;
			atomic_fetch_add(&l->failed, 1);
			return NULL;
		}
		if (sum != 15)
			atomic_fetch_add(&l->wrong, 1);
		else
			atomic_fetch_add(&l->ok, 1);
	}
}

static int write_knob(const char *knob, const char *cmd)
{
	FILE *f = fopen(knob, "w");

	if (!f || fputs(cmd, f) < 0 || fclose(f) != 0) {
		FAIL("writing \"%s\" to %s: %s", cmd, knob, strerror(errno));
		return -1;
	}
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int ssr(const char *knob)
{
	struct load l = { 0 };
	pthread_t t;
	double t0;
	int err;

	if (open_calc(0, &l.h) || check_calc(l.h, "before the crash", 1, 100))
		return 1;
	pthread_create(&t, NULL, call_until_failure, &l);
	/* Crash only once the thread is calling. */
	while (atomic_load(&l.ok) == 0 && atomic_load(&l.failed) == 0)
		usleep(1000);
	printf("qda_libtest: calls are running; crashing the DSP (%s)\n", knob);
	if (write_knob(knob, "crash")) {
		pthread_cancel(t);
		return 1;
	}
	pthread_join(t, NULL);
	printf("qda_libtest: load: %d correct, %d wrong; the call in flight failed with 0x%x\n",
	       atomic_load(&l.ok), atomic_load(&l.wrong), l.last_err);
	if (atomic_load(&l.wrong))
		FAIL("wrong sums while the DSP was crashing");
	if ((err = calculator_close(l.h)))
		printf("qda_libtest: closing the handle of the crashed session: 0x%x\n", err);
	/* The restarted DSP registers a new node once the old one is
	 * released; the library's monitor notices. Give it 20 s. */
	t0 = now();
	for (;;) {
		remote_handle64 h = 0;

		/* The last attempt reports why it failed. */
		retrying = now() - t0 < 20;
		err = open_calc(0, &h);
		if (!err) {
			retrying = 0;
			printf("qda_libtest: new session after %.1f s\n", now() - t0);
			check_calc(h, "after the restart", 10, 500);
			if ((err = calculator_close(h)))
				FAIL("calculator_close after the restart: 0x%x", err);
			break;
		}
		if (!retrying) {
			FAIL("no new session within 20 s of the crash");
			break;
		}
		usleep(200 * 1000);
	}
	return failures != 0;
}

/* `calls` sums of `v` (n elements) on `h`; seconds taken, -1 on a wrong
 * or failed sum. */
static double timed_sums(remote_handle64 h, const int *v, int n, int calls, int64_t want)
{
	double t0 = now();

	for (int i = 0; i < calls; i++) {
		int64_t sum = 0;
		int err = calculator_sum(h, v, n, &sum);

		if (err || sum != want) {
			FAIL("bench: sum %d: err 0x%x, %lld (want %lld)", i, err,
			     (long long)sum, (long long)want);
			return -1;
		}
	}
	return now() - t0;
}

/* Fills `v` (n elements) with 0..n-1; returns their sum. */
static int64_t fill(int *v, int n)
{
	int64_t s = 0;

	for (int i = 0; i < n; i++)
		s += v[i] = i;
	return s;
}

static int bench(int calls, int bytes)
{
	remote_handle64 h;
	int n = bytes / (int)sizeof(int), one = 7;
	int *heap = malloc(bytes), *shared;
	double t;

	if (calls <= 0 || n <= 0 || !heap || open_calc(0, &h))
		return 1;
	t = timed_sums(h, &one, 1, calls, 7);
	if (t > 0)
		printf("qda_libtest: bench round_trip %.1f calls/s\n", calls / t);
	t = timed_sums(h, heap, n, calls, fill(heap, n));
	if (t > 0)
		printf("qda_libtest: bench copy_%dk %.2f MB/s\n", bytes >> 10,
		       (double)bytes * calls / t / 1e6);
	shared = rpcmem_alloc(RPCMEM_HEAP_ID_SYSTEM, RPCMEM_DEFAULT_FLAGS, bytes);
	if (!shared) {
		FAIL("bench: rpcmem_alloc of %d bytes", bytes);
	} else {
		t = timed_sums(h, shared, n, calls, fill(shared, n));
		if (t > 0)
			printf("qda_libtest: bench rpcmem_%dk %.2f MB/s\n", bytes >> 10,
			       (double)bytes * calls / t / 1e6);
		rpcmem_free(shared);
	}
	free(heap);
	calculator_close(h);
	return failures != 0;
}

int main(int argc, char **argv)
{
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "multisession"))
		rc = multisession();
	else if (argc == 3 && !strcmp(argv[1], "ssr"))
		rc = ssr(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "bench"))
		rc = bench(atoi(argv[2]), atoi(argv[3]));
	else {
		fprintf(stderr, "usage: qda_libtest multisession | ssr KNOB | bench CALLS BYTES\n");
		return 2;
	}
	printf("qda_libtest: %s %s\n", rc ? "FAIL" : "PASS", argv[1]);
	return rc;
}
