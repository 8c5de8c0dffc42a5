# Webhook delivery end to end (issue 13): orders placed through the API,
# the fulfilment worker playing the sandbox vendor, two orders-webhookd
# daemons at once delivering to a local receiver (node, verifying signatures
# with the standardwebhooks package).  Checks that
#   - every outbox event of the client reaches the endpoint, in order per
#     order, each signed validly, with the Standard Webhooks headers;
#   - with two daemons at once no event is delivered twice (no lease ran
#     out: every answer comes at once);
#   - a disabled endpoint receives nothing; a deleted endpoint's pending
#     deliveries are dropped and no more requests reach it;
#   - SIGTERM stops a daemon cleanly (exit 0);
#   - with the SSRF guard on (no --allow-private-addresses) a loopback URL
#     is refused at connect time and the refusal reported; the daemon's log
#     carries no secret and no body.
use strict;
use warnings FATAL => 'all';

use File::Basename qw(dirname);
use lib dirname(__FILE__);

use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use WebhookHarness qw(webhookd_bin start_webhook_world start_receiver receiver_script
  received start_daemon stop_daemon api register_url register_endpoint place_order wait_for);

ok(-x webhookd_bin(), 'the daemon is built') or BAIL_OUT('make all first');

my $w = start_webhook_world('webhooks_delivery');
my $node = $w->{node};
my $rcv = start_receiver();

my $main = register_endpoint($w, $rcv, '/main');
my $disabled = register_endpoint($w, $rcv, '/disabled');
my $gone = register_endpoint($w, $rcv, '/gone');
my $r = api($w, 'PATCH', "/api/v1/webhooks/$disabled", { enabled => JSON::PP::false });
is($r->{status}, 200, 'PATCH /api/v1/webhooks/{id}: endpoint disabled');
# /gone fails every attempt until it is deleted
receiver_script($rcv, '/gone', ('500') x 200);

my @daemons = (start_daemon($w, sender => 'first'), start_daemon($w, sender => 'second'));

# Orders whose lives produce several events each: delivered; failed and
# refunded; partially delivered and refunded (sandbox vendor scenarios).
my %order;
for my $i (1 .. 4)
{
	for my $p ('ok-', 'fail-', 'partial-')
	{
		$order{"$p$i"} = place_order($w, "$p$i", quantity => $p eq 'partial-' ? 2 : 1);
	}
}
# /gone: deleted while its deliveries keep failing.
ok(wait_for(sub { @{ received($rcv, '/gone') } >= 3 }, 30), 'the failing endpoint was tried');
cmp_ok($node->safe_psql('postgres', qq{
	SELECT count(*) FROM orders.webhook_deliveries WHERE endpoint_id = $gone AND status = 'pending'}),
	'>', 0, 'the failing endpoint has pending deliveries');
$r = api($w, 'DELETE', "/api/v1/webhooks/$gone");
ok($r->{status} == 200 || $r->{status} == 204, 'DELETE /api/v1/webhooks/{id}');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM orders.webhook_deliveries WHERE endpoint_id = $gone AND status = 'pending'}),
	'0', 'the deleted endpoint\'s pending deliveries were dropped');
cmp_ok($node->safe_psql('postgres', qq{
	SELECT count(*) FROM orders.webhook_deliveries WHERE endpoint_id = $gone AND status = 'dropped'}),
	'>', 0, '... they are marked dropped');
# an attempt already on its way may still arrive; none after that
sleep(2.5);
my $gone_count = @{ received($rcv, '/gone') };
sleep(3);
is(scalar(@{ received($rcv, '/gone') }), $gone_count,
	'no request reached the deleted endpoint after its deletion (retries every second)');

ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM orders.orders
	WHERE status IN ('PLACED', 'PENDING', 'PROCESSING') OR sub_status = 'PARTIAL'}),
	'every order reached the end of its life');

# What the outbox says each order went through, in order: "id type ...".
my %expected = map { split / /, $_, 2 } split /\n/, $node->safe_psql('postgres', q{
	SELECT order_id || ' ' || string_agg(event, ' ' ORDER BY seq)
	FROM orders.order_events GROUP BY order_id});
my $expected_count = 0;
$expected_count += scalar(split / /, $_) for values %expected;
cmp_ok($expected_count, '>=', 3 * 12, 'the orders produced at least three events each');

# Per order, the event types in the order of their first arrival.
sub arrivals
{
	my ($list) = @_;
	my (%seen, %got);
	for my $rec (@$list)
	{
		next if !$rec->{event} || $seen{ $rec->{webhook_id} }++;
		push @{ $got{ $rec->{event}{data}{id} } }, $rec->{event}{type};
	}
	return { map { $_ => join(' ', @{ $got{$_} }) } keys %got };
}

ok(wait_for(sub { keys(%{ { map { $_->{webhook_id} => 1 } @{ received($rcv, '/main') } } })
			>= $expected_count }, 90),
	'the endpoint received as many distinct events as the outbox holds');
my $main_got = received($rcv, '/main');
is_deeply(arrivals($main_got), \%expected,
	'every event of every order arrived, in order per order');
is(scalar(grep { !$_->{verified} } @$main_got), 0,
	'every request verifies with the endpoint\'s secret (standardwebhooks)');
is(scalar(grep { ($_->{event}{id} // '') ne ($_->{webhook_id} // '-') } @$main_got), 0,
	'webhook-id is the event\'s id in the body');
is(scalar(grep { ($_->{content_type} // '') ne 'application/json' } @$main_got), 0,
	'content-type: application/json');
is(scalar(grep { ($_->{user_agent} // '') !~ m{^orders-webhookd/\d+\.\d+$} } @$main_got), 0,
	'user-agent: orders-webhookd/<version>');
is(scalar(grep { ($_->{webhook_timestamp} // '') !~ /^\d{10}$/ } @$main_got), 0,
	'webhook-timestamp: Unix seconds');
my %times;
$times{ $_->{webhook_id} }++ for @$main_got;
is(scalar(grep { $_ > 1 } values %times), 0,
	'two daemons at once: no event delivered twice (no lease ran out)');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM orders.webhook_attempts a JOIN orders.webhook_deliveries d ON d.id = a.delivery_id
	WHERE d.endpoint_id = } . $main . q{ AND (a.http_status <> 200 OR a.latency_ms IS NULL OR a.finished_at IS NULL)}),
	'0', 'every attempt was reported: HTTP 200 and a latency');
note('attempts per sender: ' . $node->safe_psql('postgres', q{
	SELECT string_agg(sender || ' ' || n, ', ') FROM (
		SELECT sender, count(*) AS n FROM orders.webhook_attempts GROUP BY sender ORDER BY sender) s}));

is(scalar(@{ received($rcv, '/disabled') }), 0, 'the disabled endpoint received nothing');

is(stop_daemon($_), 0, "SIGTERM: daemon $_->{sender} exited 0") for @daemons;
like(slurp_file($daemons[0]{log}), qr/stopping: finishing \d+ attempts in flight/,
	'the daemon logged its drain');

# ---- the SSRF guard ---------------------------------------------------------

my $guarded_daemon = start_daemon($w, sender => 'guarded',
	args => [ '--poll-interval', '0.2', '--timeout', '2', '--lease', '5' ]);
my $guarded = register_endpoint($w, $rcv, '/guarded');
# Address literals of each refused kind (accepted at registration: the
# database's own check is off in this cluster), and a name that resolves
# to loopback, as a rebound name would: refused before any connection.
my %refused = (
	"http://localhost:$rcv->{port}/by-name" => qr/^address refused: (127\.0\.0\.1|::1) is loopback$/,
	'http://10.20.30.40:9/' => qr/^address refused: 10\.20\.30\.40 is private$/,
	'http://192.168.1.1:9/' => qr/^address refused: 192\.168\.1\.1 is private$/,
	'http://169.254.169.254/latest/meta-data/' => qr/^address refused: 169\.254\.169\.254 is link-local$/,
	'http://100.64.0.1:9/' => qr/^address refused: 100\.64\.0\.1 is shared \(CGNAT\)$/,
	'http://0.0.0.0:9/' => qr/^address refused: 0\.0\.0\.0 is unspecified$/,
	'http://[::ffff:10.0.0.1]:9/' => qr/^address refused: ::ffff:10\.0\.0\.1 is private$/,
	'http://[fd00::1]:9/' => qr/^address refused: fd00::1 is unique-local$/);
my %refused_id = map { (register_url($w, $_)->{id} => $_) } keys %refused;
place_order($w, 'ok-guarded');
my $ids = join(',', $guarded, keys %refused_id);
ok($node->poll_query_until('postgres', qq{
	SELECT count(DISTINCT d.endpoint_id) = } . (1 + keys %refused_id) . qq{
	FROM orders.webhook_attempts a JOIN orders.webhook_deliveries d ON d.id = a.delivery_id
	WHERE d.endpoint_id IN ($ids) AND a.finished_at IS NOT NULL}),
	'the guarded daemon attempted a delivery to every guarded endpoint');
is($node->safe_psql('postgres', qq{
	SELECT DISTINCT coalesce(a.http_status::text, 'no status') || ': ' || a.error
	FROM orders.webhook_attempts a JOIN orders.webhook_deliveries d ON d.id = a.delivery_id
	WHERE d.endpoint_id = $guarded AND a.finished_at IS NOT NULL}),
	'no status: address refused: 127.0.0.1 is loopback',
	'the loopback address was refused at connect time, and reported as such');
for my $id (sort keys %refused_id)
{
	my $url = $refused_id{$id};
	my $errors = $node->safe_psql('postgres', qq{
		SELECT string_agg(DISTINCT coalesce(a.http_status::text, '') || a.error, ' | ')
		FROM orders.webhook_attempts a JOIN orders.webhook_deliveries d ON d.id = a.delivery_id
		WHERE d.endpoint_id = $id AND a.finished_at IS NOT NULL});
	like($errors, $refused{$url}, "$url refused, and reported as such");
}
is(scalar(@{ received($rcv, '/guarded') }) + scalar(@{ received($rcv, '/by-name') }), 0,
	'the loopback endpoints received nothing');
is(stop_daemon($guarded_daemon), 0, 'the guarded daemon stopped');

my $logs = join('', map { slurp_file($_->{log}) } @daemons, $guarded_daemon);
like($logs, qr/address refused: 127\.0\.0\.1 is loopback/, 'the refusal is in the log');
unlike($logs, qr/whsec_|v1,[A-Za-z0-9+\/]{20}|"type"|customer\@example|password/,
	'the daemons\' logs carry no secret, signature or body');

done_testing();
