/*
 * sender.c
 *		The HTTP side of orders-webhookd (see sender.h).
 *
 * One easy handle per attempt, driven by one multi handle, whose
 * connection cache keeps up to max_connections connections open: the next
 * attempt to the same receiver reuses one (HTTP keep-alive) instead of
 * connecting again (counted: sender_counts, logged when the daemon stops).
 * Each attempt
 * POSTs the body with the Standard Webhooks headers the database computed,
 * never follows a redirect (a 3xx is a failure like any non-2xx), speaks
 * http and https only, ignores proxy settings of the environment (the guard
 * must see the address it connects to), and reads at most
 * SENDER_MAX_RESPONSE bytes of the answer, which it throws away.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "sender.h"

/* Bytes of a response body read before the connection is dropped. */
#define SENDER_MAX_RESPONSE 4096

#define USER_AGENT "orders-webhookd/" WEBHOOKD_VERSION

/* One attempt in flight. */
typedef struct Transfer
{
	struct Transfer *prev,
			   *next;			/* the sender's list of transfers in flight */
	Delivery   *delivery;
	CURL	   *easy;
	struct curl_slist *headers;
	const SenderConfig *config;
	size_t		response_bytes;
	bool		response_truncated;
	long		connects;		/* new connections this attempt made */
	char		refused[96];	/* the guard's reason, "" if it let all pass */
} Transfer;

struct Sender
{
	SenderConfig config;
	CURLM	   *multi;
	Transfer   *transfers;		/* in flight */
	int			in_flight;
	long		finished;		/* attempts finished */
	long		connects;		/* connections they opened */
};

void
delivery_free(Delivery *d)
{
	if (d == NULL)
		return;
	free(d->url);
	free(d->webhook_id);
	free(d->webhook_signature);
	free(d->body);
	free(d);
}

Sender *
sender_create(const SenderConfig *config)
{
	Sender	   *s = calloc(1, sizeof(Sender));

	if (s == NULL)
		return NULL;
	s->config = *config;
	s->multi = curl_multi_init();
	/*
	 * The default cache size follows the easy handles added, and ours are
	 * removed after each attempt: fix it to the concurrency, so that every
	 * connection in use may stay open for the next attempt.
	 */
	if (s->multi == NULL ||
		curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS,
						  (long) (config->max_connections > 0 ? config->max_connections : 16)) != CURLM_OK)
	{
		if (s->multi != NULL)
			curl_multi_cleanup(s->multi);
		free(s);
		return NULL;
	}
	return s;
}

static void
transfer_free(Transfer *t)
{
	curl_slist_free_all(t->headers);
	curl_easy_cleanup(t->easy);
	delivery_free(t->delivery);
	free(t);
}

static void
unlink_transfer(Sender *s, Transfer *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		s->transfers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	curl_multi_remove_handle(s->multi, t->easy);
	s->in_flight--;
}

void
sender_destroy(Sender *s)
{
	if (s == NULL)
		return;
	/* transfers still in flight (a forced stop): abandon them */
	while (s->transfers != NULL)
	{
		Transfer   *t = s->transfers;

		unlink_transfer(s, t);
		transfer_free(t);
	}
	curl_multi_cleanup(s->multi);
	free(s);
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: the guard, on the very address about to be
 * connected to.  A refused address makes libcurl try the name's next
 * address, if any, or fail with CURLE_COULDNT_CONNECT.
 */
static curl_socket_t
open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	Transfer   *t = clientp;
	const char *why;

	(void) purpose;
	if (!t->config->allow_private_addresses &&
		(why = guard_refusal(&address->addr)) != NULL)
	{
		char		host[INET6_ADDRSTRLEN] = "?";

		if (address->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *) &address->addr)->sin_addr,
					  host, sizeof(host));
		else if (address->family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &address->addr)->sin6_addr,
					  host, sizeof(host));
		snprintf(t->refused, sizeof(t->refused), "address refused: %s is %s",
				 host, why);
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype | SOCK_CLOEXEC,
				  address->protocol);
}

/* CURLOPT_WRITEFUNCTION: count the answer's bytes, keep none. */
static size_t
discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	Transfer   *t = userdata;
	size_t		n = size * nmemb;

	(void) ptr;
	t->response_bytes += n;
	if (t->response_bytes > SENDER_MAX_RESPONSE)
	{
		t->response_truncated = true;
		return 0;				/* CURLE_WRITE_ERROR: stop reading */
	}
	return n;
}

static bool
add_header(Transfer *t, const char *name, const char *value)
{
	char		line[1024];
	struct curl_slist *l;
	int			n = snprintf(line, sizeof(line), "%s: %s", name, value);

	if (n < 0 || (size_t) n >= sizeof(line))
		return false;
	l = curl_slist_append(t->headers, line);
	if (l == NULL)
		return false;
	t->headers = l;
	return true;
}

bool
sender_start(Sender *s, Delivery *d)
{
	Transfer   *t = calloc(1, sizeof(Transfer));
	char		timestamp[32];
	bool		ok;

	if (t == NULL)
	{
		delivery_free(d);
		return false;
	}
	t->delivery = d;
	t->config = &s->config;
	t->easy = curl_easy_init();
	snprintf(timestamp, sizeof(timestamp), "%lld", d->webhook_timestamp);
	ok = t->easy != NULL &&
		add_header(t, "content-type", "application/json") &&
		add_header(t, "webhook-id", d->webhook_id) &&
		add_header(t, "webhook-timestamp", timestamp) &&
		add_header(t, "webhook-signature", d->webhook_signature) &&
		/* no "Expect: 100-continue" round trip before larger bodies */
		(t->headers = curl_slist_append(t->headers, "Expect:")) != NULL;

	ok = ok &&
		curl_easy_setopt(t->easy, CURLOPT_URL, d->url) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_PROXY, "") == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, s->config.connect_timeout_ms) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, s->config.timeout_ms) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETDATA, t) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard_body) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_USERAGENT, USER_AGENT) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_POST, 1L) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, d->body) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) d->body_len) == CURLE_OK &&
		curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t) == CURLE_OK &&
		curl_multi_add_handle(s->multi, t->easy) == CURLM_OK;
	if (!ok)
	{
		transfer_free(t);
		return false;
	}
	t->next = s->transfers;
	if (s->transfers != NULL)
		s->transfers->prev = t;
	s->transfers = t;
	s->in_flight++;
	return true;
}

int
sender_in_flight(const Sender *s)
{
	return s->in_flight;
}

void
sender_wait(Sender *s, const int *fds, int nfds, int timeout_ms)
{
	struct curl_waitfd extra[4];
	int			running;
	int			i;

	if (nfds > 4)
		nfds = 4;
	for (i = 0; i < nfds; i++)
	{
		extra[i].fd = fds[i];
		extra[i].events = CURL_WAIT_POLLIN;
		extra[i].revents = 0;
	}
	curl_multi_poll(s->multi, extra, (unsigned) nfds, timeout_ms, NULL);
	curl_multi_perform(s->multi, &running);
}

/* The outcome of a finished transfer, into *out. */
static void
judge(Transfer *t, CURLcode result, Outcome *out)
{
	long		status = 0;
	curl_off_t	total_us = 0;
	long		connects = 0;

	memset(out, 0, sizeof(Outcome));
	curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
	t->connects = connects;
	out->delivery_id = t->delivery->delivery_id;
	out->attempt = t->delivery->attempt;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
	out->latency_ms = (int) (total_us / 1000);

	/* an answer whose body we stopped reading still has its status */
	if ((result == CURLE_OK || (result == CURLE_WRITE_ERROR && t->response_truncated)) &&
		(status < 100 || status > 599))
	{
		/* not an HTTP status (webhook_report takes 100 to 599) */
		snprintf(out->error, sizeof(out->error), "invalid HTTP status %ld", status);
		return;
	}
	if (result == CURLE_OK || (result == CURLE_WRITE_ERROR && t->response_truncated))
	{
		out->http_status = (int) status;
		if (status >= 300 && status < 400)
			snprintf(out->error, sizeof(out->error), "redirect not followed");
		return;
	}
	/* no complete answer: the status, if any came, is not an answer */
	if (t->refused[0] != '\0')
		snprintf(out->error, sizeof(out->error), "%s", t->refused);
	else
		snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(result));
}

bool
sender_next_outcome(Sender *s, Outcome *out)
{
	CURLMsg    *msg;
	int			queued;

	while ((msg = curl_multi_info_read(s->multi, &queued)) != NULL)
	{
		Transfer   *t;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
		judge(t, msg->data.result, out);
		s->finished++;
		s->connects += t->connects;
		unlink_transfer(s, t);
		transfer_free(t);
		return true;
	}
	return false;
}

void
sender_counts(const Sender *s, long *attempts, long *connections)
{
	*attempts = s->finished;
	*connections = s->connects;
}
