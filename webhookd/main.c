/*
 * main.c
 *		orders-webhookd: delivers the orders extension's webhooks.
 *
 * Turns new outbox events into deliveries (orders.webhook_enqueue, the
 * fan-out, in its own short transaction), claims due deliveries from the
 * database (orders.webhook_claim: leased with FOR UPDATE SKIP LOCKED,
 * ordered per endpoint and order, signed by the database), POSTs them
 * concurrently, and reports every outcome (orders.webhook_report).  It
 * fans out and claims when orders_webhooks is notified and every
 * --poll-interval (retries fall due by time alone); it claims again as soon
 * as reports free room (a success may also let the next event of its order
 * through), and fans out again while the last fan-out found work.  Outside the
 * database backend on purpose: a crash or a hang in HTTP code never takes
 * PostgreSQL down.  Several daemons may run at once.
 *
 * Several --conninfo: the shards of a sharded layout (docs/scale-out.md),
 * each with its own connection, claims and reports; one that is down holds
 * up none of the others.  Each outcome is reported to the database its
 * delivery came from.
 *
 * SIGTERM or SIGINT: claim nothing more, let the attempts in flight finish
 * and report them, exit 0 (a second signal exits at once; what was claimed
 * and not reported is claimed again when its lease runs out, with the same
 * webhook-id).  SIGHUP is ignored: there is nothing to reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "db.h"
#include "log.h"
#include "sender.h"

/* The longest sender name orders.webhook_claim accepts. */
#define SENDER_MAX 100

/* The most databases: the most shards a router has (orders_router.id_slots()). */
#define DATABASES_MAX 16

typedef struct Options
{
	const char *conninfo[DATABASES_MAX];
	int			n_databases;
	char		sender[SENDER_MAX + 1];
	int			concurrency;
	double		poll_interval_s;
	double		lease_s;		/* 0: the default, from the timeout */
	SenderConfig http;
} Options;

/* The self-pipe: the signal handler writes, the main loop polls. */
static int	signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_requests = 0;

static void
on_stop_signal(int signo)
{
	int			saved = errno;
	char		c = (char) signo;

	stop_requests++;
	if (write(signal_pipe[1], &c, 1) < 0)
	{
		/* the pipe is full: the loop wakes up anyway */
	}
	errno = saved;
}

static void
usage(FILE *out)
{
	fprintf(out,
			"orders-webhookd: delivers the webhooks of the orders extension\n"
			"\n"
			"Claims due deliveries with orders.webhook_claim(), POSTs them (Standard\n"
			"Webhooks headers, signed by the database) and reports each outcome with\n"
			"orders.webhook_report().  Connect as a role granted orders_webhook_sender.\n"
			"\n"
			"Usage: orders-webhookd [OPTION]...\n"
			"\n"
			"  -d, --conninfo=CONNINFO      libpq connection string or URI; empty: the PG*\n"
			"                               environment variables (\"\"); repeat it for each\n"
			"                               shard of a sharded layout (at most 16)\n"
			"  -s, --sender=NAME            this daemon's name in the leases (hostname:pid)\n"
			"  -c, --concurrency=N          attempts in flight at once (16)\n"
			"      --poll-interval=SECONDS  claim at least this often (1)\n"
			"      --connect-timeout=SECONDS  per attempt, to connect (5)\n"
			"      --timeout=SECONDS        per attempt, in all (15)\n"
			"      --lease=SECONDS          how long a claim is ours before another\n"
			"                               daemon may take it (timeout + 30)\n"
			"      --allow-private-addresses  deliver to loopback, private, link-local\n"
			"                               ... addresses too (tests; never in production)\n"
			"  -V, --version                show the version and exit\n"
			"  -h, --help                   show this help and exit\n");
}

/* A positive number of seconds, or exit with a message naming the option. */
static double
seconds_arg(const char *name, const char *value)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(value, &end);
	if (errno != 0 || end == value || *end != '\0' || !(v > 0) || v > 86400)
	{
		fprintf(stderr, "orders-webhookd: invalid --%s \"%s\": expected seconds, more than 0 and at most 86400\n",
				name, value);
		exit(2);
	}
	return v;
}

static void
parse_options(int argc, char **argv, Options *opt)
{
	static const struct option longopts[] = {
		{"conninfo", required_argument, NULL, 'd'},
		{"sender", required_argument, NULL, 's'},
		{"concurrency", required_argument, NULL, 'c'},
		{"poll-interval", required_argument, NULL, 1},
		{"connect-timeout", required_argument, NULL, 2},
		{"timeout", required_argument, NULL, 3},
		{"lease", required_argument, NULL, 4},
		{"allow-private-addresses", no_argument, NULL, 5},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	char		host[256];
	int			c;

	memset(opt, 0, sizeof(Options));
	opt->concurrency = 16;
	opt->poll_interval_s = 1;
	opt->http.connect_timeout_ms = 5000;
	opt->http.timeout_ms = 15000;
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	{
		char		pid[16];
		int			n = snprintf(pid, sizeof(pid), ":%d", (int) getpid());

		/* the host name shortened if need be, never the pid */
		snprintf(opt->sender, sizeof(opt->sender), "%.*s%s", SENDER_MAX - n, host, pid);
	}

	while ((c = getopt_long(argc, argv, "d:s:c:Vh", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				if (opt->n_databases == DATABASES_MAX)
				{
					fprintf(stderr, "orders-webhookd: too many --conninfo: at most %d\n", DATABASES_MAX);
					exit(2);
				}
				opt->conninfo[opt->n_databases++] = optarg;
				break;
			case 's':
				if (optarg[0] == '\0' || strlen(optarg) >= sizeof(opt->sender))
				{
					fprintf(stderr, "orders-webhookd: invalid --sender: expected 1 to %zu characters\n",
							sizeof(opt->sender) - 1);
					exit(2);
				}
				strcpy(opt->sender, optarg);
				break;
			case 'c':
				{
					char	   *end;
					long		n;

					errno = 0;
					n = strtol(optarg, &end, 10);
					if (errno != 0 || end == optarg || *end != '\0' || n < 1 || n > 1000)
					{
						fprintf(stderr, "orders-webhookd: invalid --concurrency \"%s\": expected 1 to 1000\n",
								optarg);
						exit(2);
					}
					opt->concurrency = (int) n;
					break;
				}
			case 1:
				opt->poll_interval_s = seconds_arg("poll-interval", optarg);
				break;
			case 2:
				opt->http.connect_timeout_ms = (long) (seconds_arg("connect-timeout", optarg) * 1000);
				break;
			case 3:
				opt->http.timeout_ms = (long) (seconds_arg("timeout", optarg) * 1000);
				break;
			case 4:
				opt->lease_s = seconds_arg("lease", optarg);
				break;
			case 5:
				opt->http.allow_private_addresses = true;
				break;
			case 'V':
				printf("orders-webhookd %s\n", WEBHOOKD_VERSION);
				exit(0);
			case 'h':
				usage(stdout);
				exit(0);
			default:
				usage(stderr);
				exit(2);
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "orders-webhookd: unexpected argument \"%s\"\n", argv[optind]);
		exit(2);
	}
	if (opt->n_databases == 0)
		opt->conninfo[opt->n_databases++] = "";
	if (opt->lease_s == 0)
		opt->lease_s = opt->http.timeout_ms / 1000.0 + 30;
	/* the lease must outlast an attempt, or a slow attempt is sent twice */
	if (opt->lease_s * 1000 <= opt->http.timeout_ms)
	{
		fprintf(stderr, "orders-webhookd: invalid --lease: it must be longer than --timeout\n");
		exit(2);
	}
}

static void
install_signals(void)
{
	struct sigaction sa;

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
	{
		fprintf(stderr, "orders-webhookd: cannot create a pipe: %s\n", strerror(errno));
		exit(1);
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

static void
log_outcome(const Outcome *o)
{
	if (o->http_status >= 200 && o->http_status < 300)
		log_msg("delivery %lld attempt %d: delivered, HTTP %d in %d ms",
				o->delivery_id, o->attempt, o->http_status, o->latency_ms);
	else if (o->http_status > 0)
		log_msg("delivery %lld attempt %d: failed, HTTP %d in %d ms%s%s",
				o->delivery_id, o->attempt, o->http_status, o->latency_ms,
				o->error[0] ? ": " : "", o->error);
	else
		log_msg("delivery %lld attempt %d: failed after %d ms: %s",
				o->delivery_id, o->attempt, o->latency_ms, o->error);
}

/*
 * One database the daemon delivers for: its connection, when to claim
 * there next, and the outcomes of its deliveries not reported yet.
 */
typedef struct Source
{
	Db			db;
	char		label[24];		/* "database N: " with several, else "" */
	bool		want_claim;
	bool		want_fan_out;	/* orders.webhook_enqueue may find work */
	double		next_poll_at;
	Outcome    *unreported;		/* at most --concurrency */
	int			n_unreported;
} Source;

/*
 * Which source each attempt in flight came from, by delivery id: the
 * sender hands back an outcome with its delivery id only.  The shards of
 * one platform number their deliveries apart (ids by residue class), so an
 * id is in flight from one source at most; see claim_from.
 */
typedef struct InFlight
{
	long long	delivery_id;
	int			source;			/* -1: a free slot */
} InFlight;

static int
in_flight_find(const InFlight *f, int n, long long delivery_id)
{
	int			i;

	for (i = 0; i < n; i++)
		if (f[i].source >= 0 && f[i].delivery_id == delivery_id)
			return i;
	return -1;
}

/* Outcomes waiting, over every source. */
static int
unreported_total(const Source *src, int n)
{
	int			i,
				total = 0;

	for (i = 0; i < n; i++)
		total += src[i].n_unreported;
	return total;
}

/* An outcome to report to the source its delivery came from. */
static void
queue_outcome(Source *src, InFlight *flights, int n_flights, const Outcome *o)
{
	int			f = in_flight_find(flights, n_flights, o->delivery_id);
	Source	   *s = &src[f >= 0 ? flights[f].source : 0];

	if (f >= 0)
		flights[f].source = -1;
	s->unreported[s->n_unreported++] = *o;
}

/*
 * Claim up to room deliveries from one source and start them.  A delivery
 * whose id is in flight from another source already (databases that are
 * not shards of one platform) is not started: left to its lease, logged.
 */
static void
claim_from(Source *src, int k, const Options *opt, Sender *sender, int room,
		   Delivery **claimed, InFlight *flights, int n_flights)
{
	Source	   *s = &src[k];
	int			n = db_claim(&s->db, opt->sender, room, opt->lease_s, claimed);
	int			i;
	Outcome		o;

	/* a full batch: more may be due at once */
	s->want_claim = n == room;
	for (i = 0; i < n; i++)
	{
		Delivery   *c = claimed[i];
		int			f;

		claimed[i] = NULL;
		if (c == NULL)
			continue;			/* out of memory: left to its lease */
		if (in_flight_find(flights, n_flights, c->delivery_id) >= 0)
		{
			log_msg("%sdelivery %lld has the id of one in flight from another database: left to its lease (are the databases shards of one router?)",
					s->label, c->delivery_id);
			delivery_free(c);
			continue;
		}
		memset(&o, 0, sizeof(o));
		o.delivery_id = c->delivery_id;
		o.attempt = c->attempt;
		/*
		 * A free slot: room <= free slots, as the sender counts an attempt
		 * in flight until its outcome is taken (queue_outcome frees it).
		 */
		for (f = 0; f < n_flights && flights[f].source >= 0; f++)
			;
		if (f == n_flights)
		{
			log_msg("%sno room for delivery %lld: left to its lease", s->label, c->delivery_id);
			delivery_free(c);
			continue;
		}
		flights[f].delivery_id = c->delivery_id;
		flights[f].source = k;
		if (!sender_start(sender, c))
		{
			/* a failed attempt like any other: retried on schedule */
			flights[f].source = -1;
			snprintf(o.error, sizeof(o.error), "could not start the request");
			log_outcome(&o);
			s->unreported[s->n_unreported++] = o;
		}
	}
}

int
main(int argc, char **argv)
{
	Options		opt;
	Sender	   *sender;
	Source	   *src;
	InFlight   *flights;		/* --concurrency slots */
	Delivery  **claimed;
	int			n_src;
	int			first = 0;		/* the source that claims first, in turn */
	bool		draining = false;
	double		drain_deadline = 0;
	int			k;

	parse_options(argc, argv, &opt);
	install_signals();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		fprintf(stderr, "orders-webhookd: cannot initialize libcurl\n");
		return 1;
	}
	opt.http.max_connections = opt.concurrency;
	sender = sender_create(&opt.http);
	n_src = opt.n_databases;
	src = calloc(n_src, sizeof(Source));
	flights = calloc(opt.concurrency, sizeof(InFlight));
	claimed = calloc(opt.concurrency, sizeof(Delivery *));
	for (k = 0; src != NULL && k < n_src; k++)
	{
		/* at most one outcome per attempt in flight: claims wait for reports */
		src[k].unreported = calloc(opt.concurrency, sizeof(Outcome));
		if (src[k].unreported == NULL)
		{
			src = NULL;			/* exits below; the OS frees the rest */
			break;
		}
		if (n_src > 1)
			snprintf(src[k].label, sizeof(src[k].label), "database %d: ", k);
		src[k].want_claim = true;
		src[k].want_fan_out = true;
		db_init(&src[k].db, opt.conninfo[k], src[k].label);
	}
	if (sender == NULL || src == NULL || flights == NULL || claimed == NULL)
	{
		fprintf(stderr, "orders-webhookd: out of memory\n");
		return 1;
	}
	for (k = 0; k < opt.concurrency; k++)
		flights[k].source = -1;
	log_msg("starting as sender \"%s\": %d database%s, concurrency %d, poll every %.3g s, timeouts %.3g s / %.3g s, lease %.3g s%s",
			opt.sender, n_src, n_src > 1 ? "s" : "", opt.concurrency, opt.poll_interval_s,
			opt.http.connect_timeout_ms / 1000.0, opt.http.timeout_ms / 1000.0,
			opt.lease_s, opt.http.allow_private_addresses ? ", private addresses allowed" : "");

	for (;;)
	{
		double		now = monotonic_now();
		double		wait_s = 1;
		bool		claim_now = false;
		int			fds[DATABASES_MAX + 1];
		int			nfds = 0;
		int			room;
		Outcome		o;

		if (stop_requests > 1)
		{
			log_msg("stopping now: %d attempts in flight and %d outcomes unreported are left to their leases",
					sender_in_flight(sender), unreported_total(src, n_src));
			break;
		}
		if (stop_requests > 0 && !draining)
		{
			draining = true;
			drain_deadline = now + opt.http.timeout_ms / 1000.0 + 5;
			log_msg("stopping: finishing %d attempts in flight", sender_in_flight(sender));
		}
		if (draining && sender_in_flight(sender) == 0 &&
			(unreported_total(src, n_src) == 0 || now >= drain_deadline))
		{
			if (unreported_total(src, n_src) > 0)
				log_msg("%d outcomes unreported (no database): left to their leases",
						unreported_total(src, n_src));
			break;
		}

		for (k = 0; k < n_src; k++)
		{
			Source	   *s = &src[k];

			/* a new connection, a notification or the poll timer */
			if (db_connect(&s->db) || db_notified(&s->db) || now >= s->next_poll_at)
			{
				s->want_claim = true;
				s->want_fan_out = true;
				s->next_poll_at = now + opt.poll_interval_s;
			}

			/*
			 * Report first: a source claims once its outcomes are in.
			 * Reported outcomes freed room, and a success or a final failure
			 * lets the next delivery of its order through: claim again at
			 * once.
			 */
			if (s->n_unreported > 0 && db_report(&s->db, s->unreported, s->n_unreported))
			{
				s->n_unreported = 0;
				s->want_claim = true;
			}

			/* the fan-out, its own transaction; again while it finds work */
			if (!draining && s->db.conn != NULL && s->want_fan_out)
			{
				int			made = db_enqueue(&s->db);

				s->want_fan_out = made > 0;
				if (made > 0)
					s->want_claim = true;
			}
		}

		/*
		 * Claims, the sources in turn: the room is what is neither in flight
		 * nor waiting to be reported (a source that cannot report yet holds
		 * its share, not the others').
		 */
		for (k = 0; k < n_src && !draining; k++)
		{
			int			i = (first + k) % n_src;
			Source	   *s = &src[i];

			room = opt.concurrency - sender_in_flight(sender) - unreported_total(src, n_src);
			if (room > 0 && s->db.conn != NULL && s->n_unreported == 0 && s->want_claim)
				claim_from(src, i, &opt, sender, room, claimed, flights, opt.concurrency);
		}
		first = (first + 1) % n_src;

		/* sleep until the network, the databases or a signal need us */
		room = opt.concurrency - sender_in_flight(sender) - unreported_total(src, n_src);
		for (k = 0; k < n_src; k++)
		{
			Source	   *s = &src[k];
			double		until = s->db.conn == NULL ? s->db.next_connect_at : s->next_poll_at;

			if (s->db.conn != NULL && !draining &&
				(s->want_fan_out || (s->want_claim && room > 0)))
				claim_now = true;
			if (until - now < wait_s)
				wait_s = until - now;
			if (draining && s->n_unreported > 0 && wait_s > 0.25)
				wait_s = 0.25;
			if (db_socket(&s->db) >= 0)
				fds[nfds++] = db_socket(&s->db);
		}
		if (claim_now || wait_s < 0)
			wait_s = 0;
		fds[nfds++] = signal_pipe[0];
		sender_wait(sender, fds, nfds, (int) (wait_s * 1000));
		{
			char		buf[16];

			while (read(signal_pipe[0], buf, sizeof(buf)) > 0)
				;
		}

		/* reported together at the top of the loop */
		while (sender_next_outcome(sender, &o))
		{
			log_outcome(&o);
			queue_outcome(src, flights, opt.concurrency, &o);
		}
	}

	{
		long		attempts,
					connections;

		sender_counts(sender, &attempts, &connections);
		log_msg("%ld attempts finished, %ld connections opened (the others reused one)",
				attempts, connections);
	}
	sender_destroy(sender);
	for (k = 0; k < n_src; k++)
	{
		db_close(&src[k].db);
		free(src[k].unreported);
	}
	free(src);
	free(flights);
	free(claimed);
	curl_global_cleanup();
	log_msg("stopped");
	return 0;
}
