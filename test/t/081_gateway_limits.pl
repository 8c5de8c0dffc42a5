# The gateway's front door under hostile traffic: over-long request lines
# and headers answered with the JSON error body; the one health endpoint
# (served by the database, 503 with Retry-After from the gateway when the
# database is down); 1,000 slow connections from one address trickling
# headers while a well-behaved client keeps being served; the per-address
# and the global connection limits answered 503 JSON; the request deadline
# (not renewed by trickled bytes); a flood of 5,000 connections opened and
# dropped.
use strict;
use warnings FATAL => 'all';

use File::Basename qw(dirname);
use lib dirname(__FILE__);

use GatewayHarness qw(gateway_bin gateway_pid start_cluster start_gateway stop_gateway wait_for);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(ceil);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

$SIG{PIPE} = 'IGNORE';

ok(-x gateway_bin(), 'the gateway is built') or BAIL_OUT('make all first');

my $node = start_cluster('gateway_limits');
my $gw = start_gateway($node,
	args => [ '--max-target', '8192', '--request-timeout', '3',
		'--max-connections-per-address', '32', '--max-connections', '256' ]);
my $base = "http://127.0.0.1:$gw->{port}";
my $http = HTTP::Tiny->new(timeout => 30);

ok(wait_for(sub { $http->get("$base/api/v1/health")->{status} == 200 }, 10),
	'GET /api/v1/health: 200');

# One request written on a socket as given; the answer read to its end.
sub raw_request
{
	my ($bytes, %opt) = @_;
	my $s = IO::Socket::INET->new(
		PeerAddr => '127.0.0.1',
		PeerPort => $gw->{port},
		LocalAddr => $opt{from} // '127.0.0.1',
		Timeout => 10) or die "connect: $!";
	$s->print($bytes);
	my $answer = '';
	while ($s->sysread(my $buf, 65536)) { $answer .= $buf; }
	close $s;
	my ($status) = $answer =~ m{^HTTP/1\.1 (\d+)};
	my ($head, $body) = split /\r\n\r\n/, $answer, 2;
	my $json = eval { decode_json($body // '') };
	return { status => $status // 0, head => $head // '', json => $json };
}

# ---- over-long request lines and headers --------------------------------------

my $r = raw_request('GET /api/v1/health?' . ('a' x 15000) . " HTTP/1.1\r\nHost: x\r\n\r\n");
is($r->{status}, 414, 'a 15 KB request line: 414');
is($r->{json}{error}, 'uri_too_long', 'a 15 KB request line: JSON error');
is($r->{json}{message}, 'Request target exceeds 8192 bytes', 'a 15 KB request line: the limit named');

$r = raw_request("GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: " . ('p' x 20000) . "\r\n\r\n");
is($r->{status}, 431, '20 KB of headers: 431');
is($r->{json}{error}, 'request_header_fields_too_large', '20 KB of headers: JSON error');

$r = raw_request('GET /api/v1/health?' . ('a' x 8000) . " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
is($r->{status}, 400, 'a request line under the limit reaches the database');
like($r->{json}{message} // '', qr/unknown query parameter/, '... which names the unknown parameter');

# ---- one health endpoint ----------------------------------------------------

$r = $http->get("$base/healthz");
isnt($r->{status}, 200, 'no /healthz any more (the database answers for the path)');
$r = $http->get("$base/api/v1/health");
is(decode_json($r->{content})->{database}, 'ok', '/api/v1/health: from the database');

$node->stop('fast');
$r = $http->get("$base/api/v1/health");
is($r->{status}, 503, 'database down: 503');
is($r->{headers}{'retry-after'}, 1, 'database down: Retry-After');
is(eval { decode_json($r->{content})->{error} }, 'service_unavailable', 'database down: JSON error');
$node->start;
ok(wait_for(sub { $http->get("$base/api/v1/health")->{status} == 200 }, 10),
	'health recovers by itself');

# ---- 1,000 slow connections from one address ------------------------------------

# A connection from $from that sends a request line and nothing more yet.
sub slow_connection
{
	my ($from) = @_;
	my $s = IO::Socket::INET->new(
		PeerAddr => '127.0.0.1',
		PeerPort => $gw->{port},
		LocalAddr => $from,
		Timeout => 5) or return undef;
	$s->autoflush(1);
	$s->syswrite("GET /api/v1/health HTTP/1.1\r\nHost: x\r\n");
	return $s;
}

# The attacker, in a child process: 1,000 connections from 127.0.0.2, each
# trickling one header line a second, reconnecting whenever the gateway
# closes one, for $attack_seconds.
my $attack_seconds = 12;
my $attacker = fork() // die "fork: $!";
if ($attacker == 0)
{
	my @conns = map { slow_connection('127.0.0.2') } 1 .. 1000;
	my $until = time() + $attack_seconds;
	while (time() < $until)
	{
		for my $i (0 .. $#conns)
		{
			my $ok = $conns[$i] && $conns[$i]->syswrite("X-Slow-$i: y\r\n");
			$conns[$i] = slow_connection('127.0.0.2') unless $ok;
		}
		sleep(1);
	}
	POSIX::_exit(0);
}
sleep(2);	# the attack is under way

# Meanwhile the per-address quota is held: a complete request from the
# same address is answered 503 at once.
$r = raw_request("GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	from => '127.0.0.2');
is($r->{status}, 503, 'a request from the flooding address: 503');
like($r->{head}, qr/^Retry-After: 1\r?$/mi, '... with Retry-After');
is($r->{json}{message}, 'Too many connections from your address. Please try again later.',
	'... and a JSON body saying why');

# The well-behaved client (another address) keeps being served.
my (@ms, @bad);
my $until = time() + $attack_seconds - 4;
while (time() < $until)
{
	my $t0 = time();
	my $g = $http->get("$base/api/v1/health");
	push @ms, (time() - $t0) * 1000;
	push @bad, $g->{status} if $g->{status} != 200;
}
waitpid($attacker, 0);
@ms = sort { $a <=> $b } @ms;
my $p99 = $ms[ ceil(0.99 * @ms) - 1 ];
diag(sprintf('under 1,000 slow connections: %d requests, p50 %.1f ms, p99 %.1f ms, max %.1f ms',
		scalar @ms, $ms[ int(@ms / 2) ], $p99, $ms[-1]));
cmp_ok(scalar @ms, '>=', 20, 'the well-behaved client was served during the attack');
is(scalar @bad, 0, 'every request of the well-behaved client got 200')
  or diag("statuses: @bad");
ok(wait_for(sub { $http->get("$base/api/v1/health")->{status} == 200 }, 5),
	'served after the attack');

# ---- the request deadline is not renewed by trickled bytes ----------------------

my $slow = slow_connection('127.0.0.5');
my $t0 = time();
my $open = 1;
while ($open && time() - $t0 < 15)
{
	$open = $slow->syswrite("X-Trickle: y\r\n") ? 1 : 0;
	sleep(0.5);
}
my $held = time() - $t0;
ok(!$open, sprintf('a connection trickling a header every 0.5 s is closed (after %.1f s)', $held));
cmp_ok($held, '>=', 2.5, '... not before --request-timeout (3 s)');

# ---- the gateway full -----------------------------------------------------------

my $small = start_gateway($node, args => [ '--max-connections', '4', '--request-timeout', '5' ]);
my $once = HTTP::Tiny->new(timeout => 30, keep_alive => 0);	# holds no connection
ok(wait_for(sub { $once->get("http://127.0.0.1:$small->{port}/api/v1/openapi.json")->{status} == 200 }, 10),
	'a gateway of 4 connections is up');
my @held = map {
	IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $small->{port}, LocalAddr => "127.0.0.$_")
} 6 .. 9;
sleep(0.3);
$r = $once->get("http://127.0.0.1:$small->{port}/api/v1/openapi.json");
is($r->{status}, 503, 'all 4 connections taken: 503');
is($r->{headers}{'retry-after'}, 1, '... with Retry-After');
is(eval { decode_json($r->{content})->{message} },
	'The gateway is at its connection limit. Please try again later.', '... and why');
close $_ for @held;
ok(wait_for(sub { $once->get("http://127.0.0.1:$small->{port}/api/v1/openapi.json")->{status} == 200 }, 5),
	'served again once they are closed');
is(stop_gateway($small), 0, 'the small gateway exits 0');

# ---- database faults under load -------------------------------------------------

# Four clients call /api/v1/health in a loop for 8 s; PostgreSQL crashes
# (immediate stop) and comes back in the middle.  Every answer is a 200 or
# a 503 JSON, none hangs past the acquire timeout, service comes back.
my $results = PostgreSQL::Test::Utils::tempdir();
my @clients;
for my $c (1 .. 4)
{
	my $pid = fork() // die "fork: $!";
	if ($pid == 0)
	{
		my $h = HTTP::Tiny->new(timeout => 30);
		open(my $out, '>', "$results/$c") or POSIX::_exit(1);
		my $end = time() + 8;
		while (time() < $end)
		{
			my $t0 = time();
			my $g = $h->get("$base/api/v1/health");
			my $error = eval { decode_json($g->{content})->{error} } // '';
			printf $out "%d %.3f %s\n", $g->{status}, time() - $t0, $error || '-';
		}
		close $out;
		POSIX::_exit(0);
	}
	push @clients, $pid;
}
sleep(2);
$node->stop('immediate');
sleep(1);
$node->start;
waitpid($_, 0) for @clients;
my (%by_status, $slowest, @last);
for my $c (1 .. 4)
{
	my @lines = split /\n/, PostgreSQL::Test::Utils::slurp_file("$results/$c");
	for (@lines)
	{
		my ($status, $secs, $error) = split / /;
		$by_status{ $status == 503 && $error ne 'service_unavailable' ? "$status without JSON" : $status }++;
		$slowest = $secs if !defined $slowest || $secs > $slowest;
	}
	push @last, (split / /, $lines[-1])[0];
}
diag(sprintf('a crash under load: %s; slowest answer %.2f s',
		join(', ', map { "$by_status{$_} x $_" } sort keys %by_status), $slowest));
is_deeply([ sort grep { $_ ne '200' && $_ ne '503' } keys %by_status ], [],
	'a crash under load: every answer is a 200 or a 503 JSON');
ok($by_status{503}, '... some were 503 while the database was down');
cmp_ok($slowest, '<', 10, '... none hung (acquire timeout 5 s + connect timeout 3 s)');
is_deeply(\@last, [ 200, 200, 200, 200 ], '... and every client is served again by itself');

# ---- a flood of 5,000 connections opened and dropped --------------------------

my $pid = gateway_pid($gw);
my $t_flood = time();
for my $i (1 .. 5000)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $gw->{port},
		LocalAddr => '127.0.0.3') or next;
	# some say nothing, some half a request line, some a whole head
	$s->syswrite($i % 3 == 0 ? "GET /api/v1/hea" : $i % 3 == 1 ? "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n" : '');
	close $s;
}
diag(sprintf('5,000 connections opened and dropped in %.1f s', time() - $t_flood));
ok(kill(0, $pid), 'the gateway survived the flood');
ok(wait_for(sub { $http->get("$base/api/v1/health")->{status} == 200 }, 10),
	'and serves after it');

is(stop_gateway($gw), 0, 'the gateway exits 0 on SIGTERM');
done_testing();
