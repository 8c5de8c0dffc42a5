/*
 * delivery.h
 *		One claimed delivery attempt and its outcome, as exchanged with the
 *		database (orders.webhook_claim and orders.webhook_report).
 */
#ifndef WEBHOOKD_DELIVERY_H
#define WEBHOOKD_DELIVERY_H

/* What webhook_claim returned for one attempt (malloc'd strings). */
typedef struct Delivery
{
	long long	delivery_id;
	int			attempt;
	char	   *url;
	char	   *webhook_id;
	long long	webhook_timestamp;
	char	   *webhook_signature;	/* "v1,<base64>" one or several */
	char	   *body;
	size_t		body_len;
} Delivery;

/* What webhook_report is told about one attempt. */
typedef struct Outcome
{
	long long	delivery_id;
	int			attempt;
	int			http_status;	/* 0: no HTTP answer (reported as NULL) */
	int			latency_ms;
	char		error[128];		/* "" when none; short, no secret, no body */
} Outcome;

extern void delivery_free(Delivery *d);

#endif
