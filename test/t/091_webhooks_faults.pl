# Webhook delivery under faults (issue 13), with orders-webhookd and the
# local receiver (node + standardwebhooks):
#   - an endpoint answering 500, then hanging past the timeout, then closing
#     the connection without an answer: retried on the (test) schedule,
#     then delivered, every attempt with the same webhook-id, each outcome
#     reported (status, or none and the reason; latency); the order's next
#     event waits until the first was delivered;
#   - a redirect is not followed: a failure, retried;
#   - the daemon killed with SIGKILL in the middle of a burst and another
#     started: no event lost, any event sent twice carries the same
#     webhook-id (and body);
#   - the database restarted under the daemon: it reconnects and delivers.
use strict;
use warnings FATAL => 'all';

use File::Basename qw(dirname);
use lib dirname(__FILE__);

use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use WebhookHarness qw(webhookd_bin start_webhook_world start_receiver receiver_script
  received start_daemon kill_daemon stop_daemon register_endpoint place_order wait_for);

ok(-x webhookd_bin(), 'the daemon is built') or BAIL_OUT('make all first');

# The retry schedule: 1 s, then 2 s, then 1 s ... (tests use seconds).
my $w = start_webhook_world('webhooks_faults',
	retry_schedule => '1 second, 2 seconds, 1 second, 1 second, 1 second');
my $node = $w->{node};
my $rcv = start_receiver();

# The outbox events of an order, in order.
sub outbox
{
	my ($order) = @_;
	return [ split /\n/, $node->safe_psql('postgres',
		"SELECT event FROM orders.order_events WHERE order_id = $order ORDER BY seq") ];
}

# Wait until the order has ended and $path received each of its events once
# with an "ok"-like answer.
sub wait_delivered
{
	my ($path, $order, $seconds) = @_;
	return wait_for(sub {
		my $n = $node->safe_psql('postgres', qq{
			SELECT count(*) FROM orders.order_events e JOIN orders.orders o ON o.id = e.order_id
			WHERE o.id = $order AND o.status NOT IN ('PLACED', 'PENDING', 'PROCESSING')});
		my %ok = map { $_->{webhook_id} => 1 }
		  grep { $_->{answer} =~ /^(ok|slow)$/ && ($_->{event}{data}{id} // 0) == $order }
		  @{ received($rcv, $path) };
		return $n > 0 && keys(%ok) == $n;
	}, $seconds);
}

my $d = start_daemon($w, sender => 'faults');

# ---- 500, timeout, closed connection --------------------------------------------

my $flaky = register_endpoint($w, $rcv, '/flaky');
receiver_script($rcv, '/flaky', '500', 'hang', 'close');
my $flaky_order = place_order($w, 'ok-flaky');
ok(wait_delivered('/flaky', $flaky_order, 60), 'the flaky endpoint got every event of the order in the end');
my $got = received($rcv, '/flaky');
is(join(' ', map { $_->{answer} } @$got[0 .. 3]), '500 hang close ok',
	'four attempts of the first event: 500, hang, close, then delivered');
is(scalar(keys %{ { map { $_->{webhook_id} => 1 } @$got[0 .. 3] } }), 1,
	'the four attempts carry one webhook-id');
is($got->[0]{event}{type}, outbox($flaky_order)->[0], '... that of the order\'s first event');
is(scalar(grep { !$_->{verified} } @$got), 0, 'every attempt verifies (standardwebhooks)');
isnt($got->[4]{webhook_id}, $got->[0]{webhook_id},
	'the order\'s next event came only after the first was delivered');
# On schedule: attempt k+1 not before delay k (1 s, 2 s, 1 s, less 10 %
# jitter) after attempt k ended; the hanging attempt ended at the 2 s
# timeout.  Arrival times are the receiver's, in ms.
my @gap = map { $got->[ $_ + 1 ]{at} - $got->[$_]{at} } 0 .. 2;
cmp_ok($gap[0], '>=', 900, 'retry 1 came after 1 s');
cmp_ok($gap[1], '>=', 2000 + 1800, 'retry 2 came after the 2 s timeout and 2 s');
cmp_ok($gap[2], '>=', 900, 'retry 3 came after 1 s');
my $attempts = $node->safe_psql('postgres', qq{
	SELECT string_agg(a.attempt || ' ' || coalesce(a.http_status::text, '-') || ' '
		|| coalesce(a.error, '-') || ' ' || (a.latency_ms IS NOT NULL), E'\\n' ORDER BY a.attempt)
	FROM orders.webhook_attempts a
	JOIN orders.webhook_deliveries d ON d.id = a.delivery_id
	JOIN orders.webhook_events e ON e.id = d.event_id
	WHERE e.msg_id = '$got->[0]{webhook_id}' AND d.endpoint_id = $flaky});
like($attempts, qr/\A1 500 - true\n2 - Timeout was reached true\n3 - Server returned nothing \(no headers, no data\) true\n4 200 - true\z/,
	'each outcome reported: 500; no status, timeout; no status, nothing returned; 200');
cmp_ok($node->safe_psql('postgres', qq{
	SELECT a.latency_ms FROM orders.webhook_attempts a
	JOIN orders.webhook_deliveries d ON d.id = a.delivery_id
	JOIN orders.webhook_events e ON e.id = d.event_id
	WHERE e.msg_id = '$got->[0]{webhook_id}' AND d.endpoint_id = $flaky AND a.attempt = 2}),
	'>=', 1900, 'the hanging attempt\'s latency is the 2 s timeout');

# ---- redirects are not followed ---------------------------------------------

my $moved = register_endpoint($w, $rcv, '/moved');
receiver_script($rcv, '/moved', 'redirect');
my $moved_order = place_order($w, 'ok-moved');
ok(wait_delivered('/moved', $moved_order, 60), 'the redirecting endpoint got every event in the end');
$got = received($rcv, '/moved');
is(join(' ', map { $_->{answer} } @$got[0 .. 1]), 'redirect ok', 'a 302, then delivered');
is($got->[1]{webhook_id}, $got->[0]{webhook_id}, 'the retry carries the same webhook-id');
is(scalar(@{ received($rcv, '/elsewhere') }), 0, 'the redirect was not followed');
is($node->safe_psql('postgres', qq{
	SELECT a.http_status || ' ' || a.error FROM orders.webhook_attempts a
	JOIN orders.webhook_deliveries d ON d.id = a.delivery_id
	JOIN orders.webhook_events e ON e.id = d.event_id
	WHERE e.msg_id = '$got->[0]{webhook_id}' AND d.endpoint_id = $moved AND a.attempt = 1}),
	'302 redirect not followed', 'the 302 reported as a failure');

# ---- SIGKILL in the middle of a burst ----------------------------------------

register_endpoint($w, $rcv, '/burst');
receiver_script($rcv, '/burst', ('slow') x 400);
my @burst = map { place_order($w, "ok-burst-$_") } 1 .. 10;
ok(wait_for(sub { @{ received($rcv, '/burst') } >= 6 }, 60), 'the burst is being delivered');
my $in_flight = $node->safe_psql('postgres', q{
	SELECT count(*) FROM orders.webhook_deliveries WHERE leased_by = 'faults' AND status = 'pending'});
# (a webhook-id names an event: every endpoint subscribed gets it under the
# same id; the checks below are per endpoint)
kill_daemon($d);
cmp_ok($in_flight, '>', 0, "SIGKILL with deliveries in flight ($in_flight leased)");
my $d2 = start_daemon($w, sender => 'after-kill');
ok(wait_for(sub { !grep { !wait_delivered('/burst', $_, 0.1) } @burst }, 120),
	'after the restart every event of the burst was delivered');
$got = received($rcv, '/burst');
my (%ids_of_event, %bodies_of_id);
for my $rec (@$got)
{
	$ids_of_event{"$rec->{event}{data}{id} $rec->{event}{type}"}{ $rec->{webhook_id} } = 1;
	$bodies_of_id{ $rec->{webhook_id} }{ $rec->{body} } = 1;
}
my $events = 0;
$events += @{ outbox($_) } for @burst;
is(scalar(keys %ids_of_event), $events, 'every event of the burst arrived (none lost)');
is(scalar(grep { keys(%$_) > 1 } values %ids_of_event), 0,
	'no event arrived under two webhook-ids');
is(scalar(grep { keys(%$_) > 1 } values %bodies_of_id), 0, 'a webhook-id always came with the same body');
is(scalar(grep { !$_->{verified} } @$got), 0, 'every request verifies');
note(scalar(@$got) - scalar(keys %bodies_of_id) . ' duplicate deliveries after the kill');

# ---- the database restarted under the daemon -----------------------------------

register_endpoint($w, $rcv, '/restart');
$node->restart;
# the gateway's pool reconnects on its own schedule: retry the order (its
# poNumber makes a retry a replay, never a second order)
my $restart_order;
wait_for(sub { $restart_order = eval { place_order($w, 'ok-restart') } }, 30);
ok(wait_delivered('/restart', $restart_order, 60), 'after a database restart the daemon delivers again');
like(slurp_file($d2->{log}), qr/lost the database connection.*connected to the database/s,
	'it noticed the lost connection and reconnected');

is(stop_daemon($d2), 0, 'SIGTERM: exit 0');

done_testing();
