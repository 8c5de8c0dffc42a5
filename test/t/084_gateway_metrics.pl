# The gateway's GET /metrics (docs/metrics.md): served on its own loopback
# listener, not on the API's; requests counted by route template (never
# the raw path), method and status, exactly as many as were made (a 200, a
# 201, a 400, a 401, 404s, a 429 of the rate limits); the latency
# histogram; the database's metrics (orders.metrics(), read as the role
# orders_metrics) moving with an order placed; the pool's waits and
# timeouts with a request held by a lock; the connection limit's
# rejections and the request timeout; without the metrics role, no
# database metrics (and one log line); promtool check metrics on a scrape;
# and a real Prometheus server scraping the gateway every second, from
# which a series is queried back over its HTTP API.
use strict;
use warnings FATAL => 'all';

use File::Basename qw(dirname);
use lib dirname(__FILE__);

use GatewayHarness qw(gateway_bin new_client start_cluster start_gateway stop_gateway wait_for);
use HTTP::Tiny;
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

$SIG{PIPE} = 'IGNORE';

ok(-x gateway_bin(), 'the gateway is built') or BAIL_OUT('make all first');

my $node = start_cluster('gateway_metrics');
my $mport = PostgreSQL::Test::Cluster::get_free_port();
my $gw = start_gateway($node, args => [ '--metrics-port', $mport ]);
my $base = "http://127.0.0.1:$gw->{port}";
my $metrics_url = "http://127.0.0.1:$mport/metrics";
my $http = HTTP::Tiny->new(timeout => 30);
my $json = JSON::PP->new->canonical;

ok(wait_for(sub { $http->get("$base/api/v1/health")->{status} == 200 }, 20),
	'the gateway answers /api/v1/health');
ok(wait_for(sub { $http->get($metrics_url)->{status} == 200 }, 10),
	'the metrics listener answers');
like(slurp_file($gw->{log}), qr/metrics on 127\.0\.0\.1 port $mport: GET \/metrics/,
	'the log says where the metrics are');

# ---- a scrape, parsed -----------------------------------------------------------

# { 'name{labels}' => value } of one scrape, and the raw text.
sub scrape
{
	my ($url) = @_;
	my $r = $http->get($url // $metrics_url);
	die "scrape: $r->{status}" unless $r->{status} == 200;
	my %s;
	for (split /\n/, $r->{content})
	{
		next if /^#/ || !/\S/;
		my ($series, $value) = /^(\S+) (\S+)$/ or die "bad sample line: $_";
		$s{$series} = $value;
	}
	return (\%s, $r);
}

# The series that changed between two scrapes: { series => delta }.
sub moved
{
	my ($before, $after, $pattern) = @_;
	my %d;
	for my $k (keys %$after)
	{
		next unless $k =~ $pattern;
		my $delta = $after->{$k} - ($before->{$k} // 0);
		$d{$k} = $delta if $delta != 0;
	}
	return \%d;
}

my ($s0, $r0) = scrape();
is($r0->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
	'content type of the text format 0.0.4');
is($s0->{'orders_gateway_database_metrics_up'}, 1, "the database's metrics were read");
ok(exists $s0->{'orders_orders{status="PENDING"}'}, 'orders by status: from the database');
is($s0->{'orders_gateway_db_pool_connections_max'}, 3, 'pool size (--pool-size 3)');
ok(exists $s0->{'process_cpu_seconds_total'} && exists $s0->{'process_resident_memory_bytes'},
	'process basics');

# Not on the API's listener: there it is an unknown path like any other.
is($http->get("$base/metrics")->{status}, 404, 'GET /metrics on the API listener: 404');
is($http->get("http://127.0.0.1:$mport/other")->{status}, 404,
	'the metrics listener serves /metrics only');
is($http->post_form($metrics_url, {})->{status}, 405, 'POST /metrics: 405');

# ---- requests, counted ----------------------------------------------------------

$node->safe_psql(
	'postgres', q{
INSERT INTO orders.products (id, name, currency, denominations, order_quantity_limit)
VALUES (8401, 'Metrics Delayed Card', 'USD', '{10}', 5);
});
my $alice = new_client($node, 'metrics alice', 100);

sub call
{
	my ($method, $path, %opt) = @_;
	my %headers;
	if ($opt{as})
	{
		$headers{'X-API-Key'} = $opt{as}{key};
		$headers{'X-API-Secret'} = $opt{as}{secret};
	}
	my %req = (headers => \%headers);
	if (defined $opt{body})
	{
		$req{content} = $json->encode($opt{body});
		$headers{'Content-Type'} = 'application/json';
	}
	return $http->request($method, "$base$path", \%req)->{status};
}

my ($s1) = scrape();
is(call('GET', '/api/v1/products', as => $alice), 200, 'GET /api/v1/products: 200');
is(call('POST', '/api/v1/orders', as => $alice,
		body => { data => { productId => 8401, quantity => 1, denomination => 10,
				email => 'buyer@example.com', poNumber => 'metrics-1' } }),
	201, 'an order placed (no stock: it waits for a vendor): 201');
is(call('GET', '/api/v1/orders/987654321', as => $alice), 404, 'an unknown order: 404');
is(call('GET', '/api/v1/orders/123456789', as => $alice), 404, 'another: 404');
is(call('GET', '/api/v1/orders?page=0', as => $alice), 400, 'page=0: 400');
is(call('GET', '/api/v1/orders'), 401, 'no credentials: 401');
is(call('GET', '/no/such/path/secret-looking-token'), 404, 'an unknown path: 404');
my ($s2, $r2) = scrape();

is_deeply(
	moved($s1, $s2, qr/^orders_gateway_http_requests_total/),
	{
		'orders_gateway_http_requests_total{route="/api/v1/products",method="GET",status="200"}' => 1,
		'orders_gateway_http_requests_total{route="/api/v1/orders",method="POST",status="201"}' => 1,
		'orders_gateway_http_requests_total{route="/api/v1/orders/{id}",method="GET",status="404"}' => 2,
		'orders_gateway_http_requests_total{route="/api/v1/orders",method="GET",status="400"}' => 1,
		'orders_gateway_http_requests_total{route="/api/v1/orders",method="GET",status="401"}' => 1,
		'orders_gateway_http_requests_total{route="unmatched",method="GET",status="404"}' => 1,
	},
	'requests by route template, method and status: exactly those made');
unlike($r2->{content}, qr/secret-looking-token|987654321/,
	'no raw path in the metrics (route templates only)');
is_deeply(
	moved($s1, $s2, qr/^orders_gateway_http_request_duration_seconds_count/),
	{
		'orders_gateway_http_request_duration_seconds_count{route="/api/v1/products",method="GET"}' => 1,
		'orders_gateway_http_request_duration_seconds_count{route="/api/v1/orders",method="POST"}' => 1,
		'orders_gateway_http_request_duration_seconds_count{route="/api/v1/orders/{id}",method="GET"}' => 2,
		'orders_gateway_http_request_duration_seconds_count{route="/api/v1/orders",method="GET"}' => 2,
		'orders_gateway_http_request_duration_seconds_count{route="unmatched",method="GET"}' => 1,
	},
	'the latency histogram counts the same requests, by route and method');
my $lbl = 'route="/api/v1/orders/{id}",method="GET"';
is($s2->{"orders_gateway_http_request_duration_seconds_bucket{$lbl,le=\"+Inf\"}"},
	$s2->{"orders_gateway_http_request_duration_seconds_count{$lbl}"}, 'the +Inf bucket is the count');
cmp_ok($s2->{"orders_gateway_http_request_duration_seconds_bucket{$lbl,le=\"0.005\"}"}, '<=',
	$s2->{"orders_gateway_http_request_duration_seconds_bucket{$lbl,le=\"10\"}"}, 'buckets are cumulative');
cmp_ok($s2->{"orders_gateway_http_request_duration_seconds_sum{$lbl}"}, '>', 0, 'durations add up');
is_deeply(
	moved($s1, $s2, qr/^orders_(orders|vendor_jobs|outbox_events)\{|^orders_outbox_events$/),
	{
		'orders_orders{status="PENDING"}' => 1,
		'orders_vendor_jobs{state="queued"}' => 1,
		'orders_outbox_events' => 2,
	},
	"the database's metrics: the order placed is PENDING, its vendor job queued, its events in the outbox");

# ---- a rate limit ---------------------------------------------------------------

$node->safe_psql('postgres',
	'ALTER SYSTEM SET orders.rate_limit_burst = 3; ALTER SYSTEM SET orders.rate_limit_per_minute = 1; SELECT pg_reload_conf()');
my $bob = new_client($node, 'metrics bob', 0);
my $limited;
for my $i (1 .. 10)
{
	my $st = call('GET', '/api/v1/products', as => $bob);
	if ($st == 429) { $limited = $i; last; }
}
$node->safe_psql('postgres',
	'ALTER SYSTEM RESET orders.rate_limit_burst; ALTER SYSTEM RESET orders.rate_limit_per_minute; SELECT pg_reload_conf()');
ok(defined $limited, "bob's burst gets a 429");
my ($s3) = scrape();
is_deeply(
	moved($s2, $s3, qr/^orders_gateway_(rate_limited_requests_total|http_requests_total\{[^}]*status="429")/),
	{
		'orders_gateway_rate_limited_requests_total{route="/api/v1/products"}' => 1,
		'orders_gateway_http_requests_total{route="/api/v1/products",method="GET",status="429"}' => 1,
	},
	'the 429: one rate-limit rejection on its route');
is($s3->{'orders_rate_limit_denied_total'} - $s2->{'orders_rate_limit_denied_total'}, 1,
	"... and the database's own count of refusals");

# ---- promtool -------------------------------------------------------------------

my $scrape_file = "$PostgreSQL::Test::Utils::tmp_check/metrics.txt";
{
	my (undef, $r) = scrape();
	open(my $f, '>', $scrape_file) or die "$scrape_file: $!";
	print $f $r->{content};
	close $f;
}
SKIP:
{
	skip 'promtool is not installed (Debian package prometheus)', 1
	  unless system('command -v promtool >/dev/null 2>&1') == 0;
	my ($out, $err);
	my $ok = IPC::Run::run([ 'promtool', 'check', 'metrics' ], '<', $scrape_file, '>', \$out, '2>', \$err);
	ok($ok, 'promtool check metrics: no problem found') or diag("$out$err");
}

# ---- the pool: a request held by a lock, one that waits in vain --------------------

my $small_mport = PostgreSQL::Test::Cluster::get_free_port();
my $small = start_gateway($node,
	args => [ '--pool-size', '1', '--acquire-timeout', '300', '--max-connections', '2',
		'--request-timeout', '2', '--metrics-port', $small_mport ]);
my $small_base = "http://127.0.0.1:$small->{port}";
my $small_metrics = "http://127.0.0.1:$small_mport/metrics";
ok(wait_for(sub { $http->get("$small_base/api/v1/health")->{status} == 200 }, 20),
	'a gateway with a pool of one connection is up');
my ($p0) = scrape($small_metrics);

# The audit row of every request waits for the lock: the one connection stays busy.
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE orders.api_audit IN SHARE MODE;');
my $held = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $small->{port}, Timeout => 10)
  or die "connect: $!";
$held->print("GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
ok(wait_for(sub {
	$node->safe_psql('postgres', "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'orders.api_audit'::regclass") > 0 }, 20),
	'a request waits for the lock, holding the pool\'s connection');
my $tiny = HTTP::Tiny->new(timeout => 30, keep_alive => 0);
is($tiny->get("$small_base/api/v1/health")->{status}, 503, 'another request gets no connection: 503');
my ($p1) = scrape($small_metrics);
is($p1->{'orders_gateway_db_pool_connections{state="busy"}'}, 1, 'pool: 1 busy');
is($p1->{'orders_gateway_http_requests_in_flight'}, 1, 'one request in flight');
is($p1->{'orders_gateway_database_metrics_up'}, 0, "the scrape itself found no connection: the database's metrics are down");
is_deeply(
	moved($p0, $p1, qr/^orders_gateway_db_pool_(waits|wait_timeouts)_total/),
	{
		'orders_gateway_db_pool_waits_total' => 1,
		'orders_gateway_db_pool_wait_timeouts_total' => 1,
	},
	'pool: one wait in vain (the request answered 503)');
cmp_ok($p1->{'orders_gateway_db_pool_wait_seconds_total'} - $p0->{'orders_gateway_db_pool_wait_seconds_total'},
	'>=', 0.3, 'pool: the time waited (300 ms at least)');
$locker->query_safe('COMMIT');
$locker->quit;
my $answer = '';
while ($held->sysread(my $buf, 65536)) { $answer .= $buf; }
like($answer, qr{^HTTP/1\.1 200}, 'the held request is answered once the lock is gone');
my ($p2) = scrape($small_metrics);
is($p2->{'orders_gateway_db_pool_connections{state="idle"}'}, 1, 'pool: 1 idle');
is($p2->{'orders_gateway_database_metrics_up'}, 1, "the database's metrics are back");
my $small_log = slurp_file($small->{log});
like($small_log, qr/metrics: cannot read the database's metrics: no database connection\n.*metrics: the database's metrics can be read again/s,
	'the log says when the database\'s metrics could not be read, and when they could again');
# The scrape's own wait was counted after its figures were written: it
# shows in the next scrape.
is_deeply(
	moved($p1, $p2, qr/^orders_gateway_db_pool_(waits|wait_timeouts)_total/),
	{
		'orders_gateway_db_pool_waits_total' => 1,
		'orders_gateway_db_pool_wait_timeouts_total' => 1,
	},
	'pool: the scrape waited in vain too');

# ---- connection limits and the request timeout ------------------------------------

# Two idle connections fill the gateway (--max-connections 2); a third is
# answered 503; the two idle ones are cut at the request deadline (2 s).
my @idle = map {
	IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $small->{port}, Timeout => 10)
	  or die "connect: $!"
} 1 .. 2;
ok(wait_for(sub { (scrape($small_metrics))[0]{'orders_gateway_connections'} == 2 }, 10),
	'two idle connections admitted');
is($tiny->get("$small_base/api/v1/health")->{status}, 503, 'a third connection: 503');
ok(wait_for(sub { (scrape($small_metrics))[0]{'orders_gateway_request_timeouts_total'} >= 2 }, 20),
	'the idle connections are cut at the request deadline');
my ($p3) = scrape($small_metrics);
is_deeply(
	moved($p2, $p3, qr/^orders_gateway_(connections_rejected|request_timeouts)_total/),
	{
		'orders_gateway_connections_rejected_total{limit="gateway"}' => 1,
		'orders_gateway_request_timeouts_total' => 2,
	},
	'one connection rejected by the gateway limit, two timed out');
close $_ for @idle;
is(stop_gateway($small), 0, 'the small gateway exits 0');

# ---- the metrics role --------------------------------------------------------------

# Without the switch to orders_metrics the gateway's role (orders_api)
# may not read them: the scrape says so, the log gives the SQLSTATE only.
my $norole_mport = PostgreSQL::Test::Cluster::get_free_port();
my $norole = start_gateway($node, args => [ '--metrics-role', '', '--metrics-port', $norole_mport ]);
ok(wait_for(sub { $http->get("http://127.0.0.1:$norole_mport/metrics")->{status} == 200 }, 20),
	'a gateway without the metrics role is up');
my ($n1, $nr) = scrape("http://127.0.0.1:$norole_mport/metrics");
is($n1->{'orders_gateway_database_metrics_up'}, 0, "--metrics-role '': the database's metrics are refused");
unlike($nr->{content}, qr/^orders_orders/m, '... and absent');
ok(wait_for(sub { slurp_file($norole->{log}) =~ /cannot read the database's metrics: SQLSTATE 42501/ }, 10),
	'... the log names the SQLSTATE (insufficient privilege)');
scrape("http://127.0.0.1:$norole_mport/metrics");
is(() = slurp_file($norole->{log}) =~ /cannot read the database's metrics/g, 1,
	'... once, not at every scrape');
is(stop_gateway($norole), 0, 'that gateway exits 0');

# ---- a real Prometheus ------------------------------------------------------------

SKIP:
{
	skip 'prometheus is not installed (Debian package prometheus)', 3
	  unless system('command -v prometheus >/dev/null 2>&1') == 0;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $pport = PostgreSQL::Test::Cluster::get_free_port();
	open(my $cf, '>', "$dir/prometheus.yml") or die "$dir/prometheus.yml: $!";
	print $cf <<"EOF";
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: orders_gateway
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
	close $cf;
	my $plog = "$dir/prometheus.log";
	my $prom = IPC::Run::start(
		[ 'prometheus', "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/data",
		  "--web.listen-address=127.0.0.1:$pport" ],
		'<', \undef, '>', $plog, '2>&1');
	my $api = "http://127.0.0.1:$pport/api/v1/query";
	my $query = sub {
		my ($q) = @_;
		my $r = $http->get("$api?" . $http->www_form_urlencode({ query => $q }));
		return undef unless $r->{status} == 200;
		my $res = eval { decode_json($r->{content}) } or return undef;
		return $res->{data}{result};
	};
	my $q = 'orders_gateway_http_requests_total{route="/api/v1/orders/{id}",method="GET",status="404"}';
	my $value;
	ok(wait_for(sub {
		my $res = $query->($q);
		return 0 unless $res && @$res;
		$value = $res->[0]{value}[1];
		return 1 }, 120),
		'Prometheus scraped the gateway and answers a query')
	  or diag(slurp_file($plog));
	is($value, 2, 'the series queried back through Prometheus: the two 404s of GET /api/v1/orders/{id}');
	my $up = $query->('up{job="orders_gateway"}');
	is($up && @$up ? $up->[0]{value}[1] : undef, 1, 'Prometheus: the target is up');
	$prom->signal('TERM');
	$prom->finish;
}

is(stop_gateway($gw), 0, 'the gateway exits 0 on SIGTERM');
done_testing();
