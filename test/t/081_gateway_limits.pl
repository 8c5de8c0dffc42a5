# The gateway's front door: over-long request lines and headers answered
# with the JSON error body, the one health endpoint (served by the
# database, 503 with Retry-After from the gateway when the database is
# down).
use strict;
use warnings FATAL => 'all';

use File::Basename qw(dirname);
use lib dirname(__FILE__);

use GatewayHarness qw(gateway_bin start_cluster start_gateway stop_gateway wait_for);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

ok(-x gateway_bin(), 'the gateway is built') or BAIL_OUT('make all first');

my $node = start_cluster('gateway_limits');
my $gw = start_gateway($node, args => ['--max-target', '8192']);
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

is(stop_gateway($gw), 0, 'the gateway exits 0 on SIGTERM');
done_testing();
