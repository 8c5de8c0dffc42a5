# The fulfilment background worker, for real: orders preloaded, the worker
# running maintenance every second and playing the sandbox vendor, with
# short leases, backoffs and retry window.  Nobody but the worker touches
# the orders after they are placed; the test checks that
#   - every life ends where it should (delivered, partially delivered and
#     refunded, failed and refunded, top-up failed and refunded);
#   - a job whose lease runs out returns to the queue, and retries come on
#     the backoff schedule (1 s, 2 s, ...);
#   - REPROCESS_EXPIRED is reached when the retry window closes;
#   - refunds are exact and verify_ledger() is empty;
#   - the worker announces new outbox events on orders_events after commit
#     (the order's own transaction sends no NOTIFY);
#   - the worker logs an error and carries on, and comes back after being
#     terminated or killed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('fulfilment');
$node->init;
my $keys = $node->basedir . '/vault.keys';
{
	# a throwaway vault key, readable by the server only
	my $hex = join '', map { sprintf '%02x', int(rand(256)) } 1 .. 32;
	PostgreSQL::Test::Utils::append_to_file($keys, "1:$hex\n");
	chmod 0600, $keys;
}
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'orders'
restart_after_crash = on
orders.vault_key_file = '$keys'
orders.worker_interval = '1s'
orders.sandbox_vendor = on
orders.vendor_lease_timeout = '2s'
orders.vendor_retry_base = '1s'
orders.vendor_retry_max = '8s'
orders.vendor_retry_window = '15s'
});
$node->start;

sub worker_pid
{
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'orders maintenance worker'");
}

ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'orders maintenance worker'"),
	'the worker runs');
ok($node->wait_for_log(qr/extension orders is not installed in database "postgres"; waiting/),
	'the worker waits for the extension');
is($node->safe_psql('postgres', 'SHOW orders.worker_interval'), '1s', 'orders.worker_interval');

$node->safe_psql('postgres', q{
	CREATE EXTENSION orders CASCADE;
	INSERT INTO orders.clients (name) VALUES ('worker client');
	SELECT orders.fund_wallet(1, 'USD', 1000);
	INSERT INTO orders.products (id, name, currency, kind, denominations, order_quantity_limit)
	VALUES (1, 'Worker Card', 'USD', 'GIFT_CARD', '{10,25}', 5),
		   (2, 'Worker Topup', 'USD', 'TOPUP', '{5}', 1);
	INSERT INTO orders.sandbox_vendor_scenarios (po_prefix, outcomes) VALUES
		('ok-', '{ok}'), ('slow-', '{slow,ok}'), ('flaky-', '{transient,transient,ok}'),
		('never-', '{transient}'), ('partial-', '{partial,final}'), ('fail-', '{final}');
});

# Each order is placed and committed alone, with LISTEN in the same session,
# which then waits until maintenance has announced the order's events:
# psql prints the notifications it received.
my %order;
my $listened = '';
for my $o (['ok-1', 1, 3, 10], ['slow-1', 1, 1, 25], ['flaky-1', 1, 2, 10],
	['never-1', 1, 2, 25], ['partial-1', 1, 3, 10], ['fail-topup-1', 2, 1, 5])
{
	my ($po, $product, $quantity, $denomination) = @$o;
	my $phone = $product == 2 ? q{'+91', '9876543210'} : 'NULL, NULL';
	my ($ret, $out) = $node->psql('postgres', qq{
		LISTEN orders_events;
		SELECT r.response #>> '{data,placeOrder,data,orderId}'
		FROM orders.create_order(1, $product, $quantity, $denomination, NULL, NULL, '$po',
								 false, false, $phone) r;
		DO \$\$ BEGIN
			FOR i IN 1 .. 300 LOOP
				EXIT WHEN (SELECT last_event_id FROM orders.outbox_announcement)
					>= (SELECT max(e.id) FROM orders.order_events e JOIN orders.orders o ON o.id = e.order_id
						WHERE o.po_number = '$po');
				PERFORM pg_sleep(0.1);
			END LOOP;
		END \$\$;
		SELECT 1;
	});
	is($ret, 0, "order $po placed");
	($order{$po}) = $out =~ /^(\d+)$/m;
	$listened .= $out;
}
my $announcer = worker_pid();
like($listened, qr/Asynchronous notification "orders_events" with payload "\{"last_event_id" : \d+\}" received from server process with PID $announcer\./,
	'the worker announced the new events after commit');
unlike($listened, qr/"event" :/, 'the order\'s own transaction sent no NOTIFY');

# The worker takes it from here.
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM orders.orders
	WHERE status IN ('PLACED', 'PENDING', 'PROCESSING') OR sub_status = 'PARTIAL'}),
	'every order reached the end of its life without help');

my $states = $node->safe_psql('postgres', q{
	SELECT po_number || ' ' || status || '/' || sub_status FROM orders.orders ORDER BY po_number});
is($states, join("\n",
		'fail-topup-1 FAILED/REFUNDED',
		'flaky-1 DELIVERED/VENDOR_VOUCHER_FETCHED',
		'never-1 FAILED/REFUNDED',
		'ok-1 DELIVERED/VENDOR_VOUCHER_FETCHED',
		'partial-1 PARTIALLY_DELIVERED/REFUNDED',
		'slow-1 DELIVERED/VENDOR_VOUCHER_FETCHED'),
	'the lives ended as their scenarios say');

# The attempts, as the worker played them.
my $attempts = $node->safe_psql('postgres', q{
	SELECT o.po_number || ' ' || string_agg(a.outcome, ',' ORDER BY a.attempt)
	FROM orders.orders o JOIN orders.vendor_jobs j ON j.order_id = o.id
	JOIN orders.vendor_job_attempts a ON a.job_id = j.id
	WHERE o.po_number IN ('ok-1', 'slow-1', 'flaky-1', 'partial-1')
	GROUP BY o.po_number ORDER BY o.po_number});
is($attempts, join("\n",
		'flaky-1 failed_transiently,failed_transiently,delivered',
		'ok-1 delivered',
		'partial-1 partial,failed_finally',
		'slow-1 lease_expired,delivered'),
	'a lease that ran out returned the job to the queue; transient failures were retried');

# Retries on schedule: attempt k+1 is not claimed before retry_base *
# 2^(k-1) after attempt k ended: 1 s, 2 s, 4 s with the settings above
# (written out, not asked of the code under test); the lease ran out after
# 2 s.
my $gaps = $node->safe_psql('postgres', q{
	SELECT o.po_number || ' ' || a.attempt || ' ' ||
		   (next.claimed_at - a.ended_at >= CASE a.attempt WHEN 1 THEN interval '1 s'
				WHEN 2 THEN interval '2 s' WHEN 3 THEN interval '4 s' END)::text
	FROM orders.orders o JOIN orders.vendor_jobs j ON j.order_id = o.id
	JOIN orders.vendor_job_attempts a ON a.job_id = j.id
	JOIN orders.vendor_job_attempts next ON next.job_id = j.id AND next.attempt = a.attempt + 1
	WHERE o.po_number IN ('slow-1', 'flaky-1', 'never-1') AND a.attempt <= 3
	ORDER BY o.po_number, a.attempt});
is($gaps, join("\n", 'flaky-1 1 true', 'flaky-1 2 true', 'never-1 1 true', 'never-1 2 true',
		'never-1 3 true', 'slow-1 1 true'),
	'each retry came after its backoff');
is($node->safe_psql('postgres', q{
	SELECT a.ended_at - a.claimed_at >= interval '2 s'
	FROM orders.vendor_job_attempts a JOIN orders.vendor_jobs j ON j.id = a.job_id
	JOIN orders.orders o ON o.id = j.order_id WHERE o.po_number = 'slow-1' AND a.attempt = 1}),
	't', 'the slow attempt was recovered only once its lease had run out');

# The retry window: REPROCESS_EXPIRED, then FAILED, then refunded.
is($node->safe_psql('postgres', qq{
	SELECT string_agg(to_status || '/' || to_sub_status, ' ' ORDER BY id)
	FROM orders.status_history WHERE entity = 'order' AND entity_id = $order{'never-1'}
		AND to_sub_status IN ('REPROCESS_EXPIRED', 'REFUNDED')}),
	'PENDING/REPROCESS_EXPIRED FAILED/REPROCESS_EXPIRED FAILED/REFUNDED',
	'the retry window closed: REPROCESS_EXPIRED, FAILED, refunded');
cmp_ok($node->safe_psql('postgres', qq{SELECT attempts FROM orders.vendor_jobs WHERE order_id = $order{'never-1'}}),
	'>=', 3, 'the never-failing job was retried until its window closed');

# Money: refunds exact, ledger consistent.
is($node->safe_psql('postgres', q{
	SELECT string_agg(o.po_number || ' ' || o.amount_charged || ' ' || coalesce(e.amount::text, '-'), ', '
					  ORDER BY o.po_number)
	FROM orders.orders o LEFT JOIN orders.ledger_entries e ON e.order_id = o.id AND e.kind = 'REFUND'}),
	'fail-topup-1 5.00 5.00, flaky-1 20.00 -, never-1 50.00 50.00, ok-1 30.00 -, '
	  . 'partial-1 30.00 20.00, slow-1 25.00 -',
	'refunds: the whole charge of failed orders, the undelivered part of the partial one');
is($node->safe_psql('postgres', q{SELECT balance FROM orders.wallets WHERE client_id = 1}),
	'915.00', 'balance: 1000 - (30 + 25 + 20 + 50 + 30 + 5) + (50 + 20 + 5) = 915.00');
is($node->safe_psql('postgres', 'SELECT count(*) FROM orders.verify_ledger()'), '0',
	'verify_ledger() is empty');
# IS DISTINCT FROM: an order without events has a NULL array, which must
# count as wrong, not as unknown.
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM orders.orders o
	WHERE NOT EXISTS (SELECT 1 FROM orders.order_events e WHERE e.order_id = o.id)
	   OR (SELECT array_agg(seq ORDER BY seq) FROM orders.order_events e WHERE e.order_id = o.id)
		IS DISTINCT FROM (SELECT array_agg(s) FROM generate_series(1, (SELECT count(*)::integer FROM orders.order_events e WHERE e.order_id = o.id)) s)}),
	'0', 'every order has events, numbered 1, 2, 3... without gaps');

# The status changes the worker makes are announced too, not only the
# placement: a session LISTENs, places an order and waits (one statement,
# polling, at most 60 s) until the worker has delivered it and a later
# maintenance round has announced its order.delivered event; psql then
# prints what arrived meanwhile.
my (undef, $worker_notified) = $node->psql('postgres', q{
	LISTEN orders_events;
	SELECT orders.create_order(1, 1, 1, 10, NULL, NULL, 'ok-notify') IS NOT NULL AS placed;
	DO $$BEGIN
		FOR i IN 1 .. 600 LOOP
			EXIT WHEN (SELECT last_event_id FROM orders.outbox_announcement) >= (
				SELECT e.id FROM orders.order_events e JOIN orders.orders o ON o.id = e.order_id
				WHERE o.po_number = 'ok-notify' AND e.event = 'order.delivered');
			PERFORM pg_sleep(0.1);
		END LOOP;
	END$$;
	SELECT 1;
});
my $delivered_event = $node->safe_psql('postgres', q{
	SELECT e.id FROM orders.order_events e JOIN orders.orders o ON o.id = e.order_id
	WHERE o.po_number = 'ok-notify' AND e.event = 'order.delivered'});
isnt($delivered_event, '', 'the worker delivered the order (order.delivered in the outbox)');
my @announced = $worker_notified =~ /"orders_events" with payload "\{"last_event_id" : (\d+)\}"/g;
ok((grep { $_ >= $delivered_event } @announced),
	"order.delivered (event $delivered_event), set by the worker, was announced after its commit (heard: @announced)");

# An error in a round is logged, and the next rounds go on, in the same
# worker process.
my $pid = worker_pid();
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', 'ALTER FUNCTION orders.expire_units() RENAME TO expire_units_hidden');
ok($node->wait_for_log(qr/orders maintenance worker: round failed, next round in 1 s/, $log_offset),
	'a failing round is logged');
like(PostgreSQL::Test::Utils::slurp_file($node->logfile, $log_offset),
	qr/ERROR:  function orders\.expire_units\(\) does not exist/, 'with its error');
$node->safe_psql('postgres', 'ALTER FUNCTION orders.expire_units_hidden() RENAME TO expire_units');
is(worker_pid(), $pid, 'the worker carried on (same process)');
$node->safe_psql('postgres', q{
	SELECT orders.create_order(1, 1, 1, 10, NULL, NULL, 'ok-after-error')});
ok($node->poll_query_until('postgres',
		"SELECT status = 'DELIVERED' FROM orders.orders WHERE po_number = 'ok-after-error'"),
	'and its next rounds work again');

# Terminated: the postmaster starts it again (bgw_restart_time).
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 FROM pg_stat_activity
	WHERE backend_type = 'orders maintenance worker' AND pid <> $pid}),
	'a terminated worker is started again');

# Killed (a crash): the server restarts its processes, the worker with them.
$pid = worker_pid();
kill 'KILL', $pid;
ok($node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 FROM pg_stat_activity
	WHERE backend_type = 'orders maintenance worker' AND pid <> $pid}),
	'a killed worker is back after the crash restart');
$node->safe_psql('postgres', q{
	SELECT orders.create_order(1, 1, 1, 10, NULL, NULL, 'ok-after-crash')});
ok($node->poll_query_until('postgres',
		"SELECT status = 'DELIVERED' FROM orders.orders WHERE po_number = 'ok-after-crash'"),
	'and it delivers again');
is($node->safe_psql('postgres', 'SELECT count(*) FROM orders.verify_ledger()'), '0',
	'verify_ledger() is still empty');

$node->stop;

# Where orders cannot be preloaded: no worker, and the same work is one
# function an operator calls (or schedules).
my $plain = PostgreSQL::Test::Cluster->new('not_preloaded');
$plain->init;
$plain->append_conf('postgresql.conf', qq{orders.vault_key_file = '$keys'});
$plain->start;
$plain->safe_psql('postgres', q{
	CREATE EXTENSION orders CASCADE;
	INSERT INTO orders.clients (name) VALUES ('operator client');
	SELECT orders.fund_wallet(1, 'USD', 100);
	INSERT INTO orders.products (id, name, currency, denominations, order_quantity_limit)
	VALUES (1, 'Operator Card', 'USD', '{10}', 5);
	SELECT orders.create_order(1, 1, 2, 10, NULL, NULL, 'by-hand-1');
});
is($plain->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'orders maintenance worker'"),
	'0', 'not preloaded: no worker');
is($plain->safe_psql('postgres', q{
	SET orders.sandbox_vendor = on;
	SELECT orders.run_maintenance()->'sandbox';
	SELECT status || '/' || sub_status FROM orders.orders}),
	qq({"ok": 1}\nDELIVERED/VENDOR_VOUCHER_FETCHED),
	'not preloaded: orders.run_maintenance() does the round by hand (here with the sandbox vendor)');
$plain->stop;
done_testing();
