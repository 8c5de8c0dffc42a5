# The sharded layout (docs/scale-out.md): one router database (orders_router,
# PL/Proxy) in front of three shard clusters running orders, and the gateway
# connected to the router.  Over real HTTP: create, replay, conflict, list
# with every filter, details with vouchers, tokens, rate limits, cross-tenant
# 404 across shards; placement (hash and operator's choice), ids unique
# across shards, vendor jobs claimed and reported through the router, a
# client moved between shards (rows with their ids, ledger, orders and
# vouchers read back identically, keys and tokens still good), a frozen
# client, and one shard down (503 + Retry-After for its clients only, back
# without a restart of router or gateway).
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib $FindBin::RealBin;

use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use MIME::Base64 ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use GatewayHarness qw(gateway_bin start_cluster start_gateway start_process wait_for);
use WebhookHarness qw(webhookd_bin start_receiver receiver_secret received);

ok(-x gateway_bin(), 'the gateway is built')
  or BAIL_OUT('gateway/orders-gateway is missing: make all');

my $json = JSON::PP->new->canonical;

# ---- three shards and the router ----------------------------------------------

# Every shard gets the same vault key (GatewayHarness writes the same one).
my @shards = map { start_cluster("shard$_") } 0 .. 2;
# The webhook receiver of this test is on loopback; the delivery daemon
# logs in to every shard as webhookd.
$_->safe_psql('postgres', q{
	ALTER SYSTEM SET orders.rate_limit_order_reads_per_hour = 1000000;
	ALTER SYSTEM SET orders.webhook_allow_private_addresses = on;
	SELECT pg_reload_conf();
	CREATE ROLE webhookd LOGIN IN ROLE orders_webhook_sender;})
  for @shards;

# The server secrets must be the same everywhere (a moved client's keys and
# tokens): shards 1 and 2 take shard 0's, as docs/scale-out.md says.
my $copy_secrets = $shards[0]->safe_psql('postgres',
	q{SELECT string_agg(format('UPDATE orders.server_secrets SET value = %L WHERE name = %L;', value, name), ' ')
	  FROM orders.server_secrets});

my $router = PostgreSQL::Test::Cluster->new('router');
$router->init;
$router->start;
$router->safe_psql('postgres',
	'CREATE EXTENSION orders_router CASCADE; CREATE ROLE gateway LOGIN IN ROLE orders_authenticator;');
for my $i (0 .. 2)
{
	is($router->safe_psql('postgres',
			"SELECT orders_router.add_shard('host=" . $shards[$i]->host . ' port=' . $shards[$i]->port
			  . " dbname=postgres connect_timeout=2')"),
		$i, "shard $i added");
}
like($router->safe_psql('postgres', 'SELECT problem FROM orders_router.check_shards()'),
	qr/server secrets differ/, 'check_shards: shards with their own server secrets are a problem');
$shards[$_]->safe_psql('postgres', $copy_secrets) for 1 .. 2;
is($router->safe_psql('postgres', 'SELECT count(*) FROM orders_router.check_shards()'),
	'0', 'check_shards: same secrets, vault keys, version, ids in 16 slots');

sub router_sql { return $router->safe_psql('postgres', $_[0]); }

# The catalog is a reference table: put on every shard through the router.
is(router_sql(q{SELECT count(DISTINCT p) || '/' || count(*) FROM (VALUES ('{"id": 5101, "name": "Router Gift Card", "currency": "USD", "denominations": [10, 25], "order_quantity_limit": 5}'::jsonb),
			('{"id": 5102, "name": "Router Delayed Card", "currency": "USD", "denominations": [10], "order_quantity_limit": 5}'::jsonb)) v(x),
	orders_router.admin_put_product(x) p}),
	'2/6', 'admin_put_product: two products on three shards');
for my $i (0 .. 2)
{
	is($shards[$i]->safe_psql('postgres', 'SELECT count(*) FROM orders.products WHERE id IN (5101, 5102)'),
		'2', "shard $i has the catalog");
}

# Stock is per shard.
for my $i (0 .. 2)
{
	router_sql(qq{SELECT count(*) FROM orders_router.load_inventory($i, (
		SELECT jsonb_agg(jsonb_build_object('product_id', 5101, 'denomination', 25,
			'card_number', 'S$i-' || n, 'pin_code', lpad(n::text, 4, '0'),
			'expires_at', now() + interval '1 year'))
		FROM generate_series(1, 30) n))});
}

# A client on a shard (the operator's choice, or the hash of its name),
# funded, with a key: all through the router.
sub new_client
{
	my ($name, $shard) = @_;
	my $row = router_sql(qq{
SELECT orders_router.admin_create_client('$name', ${\ (defined $shard ? $shard : 'NULL')}) AS id \\gset
SELECT orders_router.admin_fund_wallet(:id, 'USD', 10000, 'test funding');
SELECT :id, key_id, secret FROM orders_router.admin_issue_api_key(:id, 'scale-out test');
});
	my ($id, $key, $secret) = split /\|/, (split /\n/, $row)[-1];
	return { id => $id, key => $key, secret => $secret, name => $name };
}

my $alice = new_client('router alice', 0);
my $bob = new_client('router bob', 1);
my $carol = new_client('router carol', 2);
my $dave = new_client('router dave', 0);
my $hashed = new_client('router hashed');

# ---- placement ---------------------------------------------------------------------

is(router_sql("SELECT shard || ' ' || placed_by FROM orders_router.placement WHERE client_id = $alice->{id}"),
	'0 operator', 'placement: alice on shard 0, the operator\'s choice');
my $hash_shard = router_sql(q{SELECT abs(hashtext('router hashed') % 3)});
is(router_sql("SELECT shard || ' ' || placed_by FROM orders_router.placement WHERE client_id = $hashed->{id}"),
	"$hash_shard hash", 'placement: by default, the hash of the name');
for my $i (0 .. 2)
{
	is($shards[$i]->safe_psql('postgres', "SELECT count(*) FROM orders.clients WHERE id = $hashed->{id}"),
		$i == $hash_shard ? '1' : '0', "the hashed client is on shard $i only if placed there");
}
is($alice->{id} % 16, 0, 'client ids of shard 0: residue 0');
is($bob->{id} % 16, 1, 'client ids of shard 1: residue 1');
is($carol->{id} % 16, 2, 'client ids of shard 2: residue 2');
is(router_sql('SELECT count(*) FROM orders_router.api_keys'), '5', 'the credential directory has every key');

# ---- the gateway over the router ------------------------------------------------------

my $mport = PostgreSQL::Test::Cluster::get_free_port();
my $gw = start_gateway($router, args => ['--acquire-timeout', '2000', '--metrics-port', $mport]);
my $base = "http://127.0.0.1:$gw->{port}";
my $http = HTTP::Tiny->new(timeout => 60);
ok(wait_for(sub { $http->get("$base/api/v1/health")->{status} == 200 }, 10),
	'the gateway answers /api/v1/health through the router');

sub call
{
	my ($method, $path, %opt) = @_;
	my %headers = %{ $opt{headers} // {} };
	if ($opt{as})
	{
		$headers{'X-API-Key'} = $opt{as}{key};
		$headers{'X-API-Secret'} = $opt{as}{secret};
	}
	$headers{'Authorization'} = "Bearer $opt{bearer}" if $opt{bearer};
	my %req = (headers => \%headers);
	if (defined $opt{body})
	{
		$req{content} = ref $opt{body} ? $json->encode($opt{body}) : $opt{body};
		$headers{'Content-Type'} //= 'application/json';
	}
	my $r = $http->request($method, "$base$path", \%req);
	$r->{json} = eval { decode_json($r->{content}) }
	  if defined $r->{content} && length $r->{content};
	return $r;
}

sub error_is
{
	my ($r, $status, $error, $message, $name) = @_;
	is($r->{status}, $status, "$name: status $status");
	like($r->{headers}{'content-type'} // '', qr{^application/json}, "$name: JSON content type");
	is($r->{json}{error}, $error, "$name: error $error");
	is($r->{json}{message}, $message, "$name: message") if defined $message;
}

sub order_body
{
	my (%data) = @_;
	return { data => { productId => 5101, quantity => 1, denomination => 25,
		email => 'buyer@example.com', %data } };
}

sub place
{
	my ($who, %data) = @_;
	my $r = call('POST', '/api/v1/orders', as => $who, body => order_body(%data));
	return ($r, $r->{json}{data}{placeOrder}{data}{orderId});
}

# ---- authentication: the same 401 as a single server --------------------------------

error_is(call('GET', '/api/v1/orders'), 401, 'unauthorized', 'Invalid or expired access token', 'no credentials');
error_is(call('GET', '/api/v1/orders', as => { key => 'sk_live_' . ('0' x 24), secret => 'whatever-secret' }),
	401, 'unauthorized', 'Invalid or expired access token', 'a key id the directory does not know');
my $r = call('GET', '/api/v1/orders', as => { key => $bob->{key}, secret => 'wrong' });
error_is($r, 401, 'unauthorized', 'Invalid or expired access token', 'a known key with a wrong secret');
is($r->{headers}{'www-authenticate'}, 'Bearer', '401: WWW-Authenticate as on a single server');
error_is(call('GET', '/api/v1/orders', bearer => 'not.a.token'),
	401, 'unauthorized', 'Invalid or expired access token', 'a bearer token that is no JWT');

# ---- create, replay, conflict on every shard ------------------------------------------

my %first;
for my $who ($alice, $bob, $carol)
{
	my ($cr, $id) = place($who, poNumber => "PO-$who->{id}-1");
	is($cr->{status}, 201, "$who->{name}: create 201");
	is($cr->{json}{data}{placeOrder}{data}{orderStatus}, 'DELIVERED', "$who->{name}: delivered from its shard's stock");
	is($cr->{headers}{location}, "/api/v1/orders/$id", "$who->{name}: Location");
	$first{ $who->{id} } = $id;
	my ($rr, $rid) = place($who, poNumber => "PO-$who->{id}-1");
	is($rr->{status}, 200, "$who->{name}: replay 200");
	is($rid, $id, "$who->{name}: replay names the same order");
	error_is((place($who, poNumber => "PO-$who->{id}-1", denomination => 10))[0],
		409, 'conflict', undef, "$who->{name}: same poNumber, other denomination");
}
is($first{ $alice->{id} } % 16, 0, 'an order of shard 0 has an id of residue 0');
is($first{ $bob->{id} } % 16, 1, 'an order of shard 1 has an id of residue 1');
is($first{ $carol->{id} } % 16, 2, 'an order of shard 2 has an id of residue 2');
is($shards[1]->safe_psql('postgres', "SELECT count(*) FROM orders.orders WHERE id = $first{ $bob->{id} }"),
	'1', "bob's order is on shard 1");
is($shards[0]->safe_psql('postgres', "SELECT count(*) FROM orders.orders WHERE id = $first{ $bob->{id} }"),
	'0', "bob's order is not on shard 0");

# ---- cross-tenant 404, across shards and within one ------------------------------------

error_is(call('GET', "/api/v1/orders/$first{ $alice->{id} }", as => $bob),
	404, 'not_found', 'No Matching Result Found!', "bob (shard 1) reads alice's order (shard 0)");
error_is(call('GET', "/api/v1/orders/$first{ $alice->{id} }", as => $dave),
	404, 'not_found', 'No Matching Result Found!', "dave (shard 0) reads alice's order (shard 0)");
error_is(call('GET', '/api/v1/orders', as => $dave), 404, 'not_found', undef, "dave's empty list");

# ---- details with vouchers -------------------------------------------------------------

$r = call('GET', "/api/v1/orders/$first{ $carol->{id} }", as => $carol);
is($r->{status}, 200, 'details: 200');
is(scalar @{ $r->{json}{vouchers} // [] }, 1, 'details: one voucher');
like($r->{json}{vouchers}[0]{card_number} // '', qr/^S2-\d+$/, "details: the card from shard 2's stock");

# ---- list with every filter --------------------------------------------------------------

my @alice_ids = ($first{ $alice->{id} });
for my $i (2 .. 6)
{
	my ($cr, $id) = place($alice, poNumber => "PO-A-$i", ($i % 2 ? () : (productId => 5102, denomination => 10)));
	is($cr->{status}, 201, "alice: order $i created");
	push @alice_ids, $id;
}
my $mid = $shards[0]->safe_psql('postgres',
	"SELECT to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM orders.orders WHERE id = $alice_ids[3]");
$r = call('GET', '/api/v1/orders?page=2&limit=2', as => $alice);
is($r->{status}, 200, 'list: page 2 of 2 per page');
is($r->{headers}{'x-total-count'}, 6, 'list: X-Total-Count 6');
is($r->{headers}{'x-total-pages'}, 3, 'list: X-Total-Pages 3');
is_deeply([ map { $_->{id} } @{ ref $r->{json} eq "ARRAY" ? $r->{json} : $r->{json}{data} } ], [ @alice_ids[3, 2] ],
	'list: newest first, the third and fourth newest on page 2')
  or diag($r->{content});
$r = call('GET', '/api/v1/orders?status=pending', as => $alice);
is($r->{headers}{'x-total-count'}, 3, 'list: status filter (any case): 3 pending');
$r = call('GET', '/api/v1/orders?product_id=5101', as => $alice);
is($r->{headers}{'x-total-count'}, 3, 'list: product_id filter: 3 of 5101');
$r = call('GET', "/api/v1/orders?placed_from=$mid", as => $alice);
is($r->{headers}{'x-total-count'}, 3, 'list: placed_from (inclusive): the 3 newest');
$r = call('GET', "/api/v1/orders?placed_to=$mid", as => $alice);
is($r->{headers}{'x-total-count'}, 3, 'list: placed_to (exclusive): the 3 oldest');
$r = call('GET', '/api/v1/orders?po_number=PO-A-3', as => $alice);
is($r->{headers}{'x-total-count'}, 1, 'list: po_number filter: the one order');
is((ref $r->{json} eq "ARRAY" ? $r->{json} : $r->{json}{data})->[0]{id}, $alice_ids[2], 'list: po_number filter: PO-A-3');
error_is(call('GET', '/api/v1/orders?placed_to=yesterday', as => $alice),
	400, 'bad_request', undef, 'list: a placed_to that is no RFC 3339 date-time');

# ---- vendor jobs through the router ---------------------------------------------------------

my ($br, $bob_delayed) = place($bob, poNumber => 'PO-B-DELAYED', productId => 5102, denomination => 10);
is($br->{json}{data}{placeOrder}{data}{orderStatus}, 'PENDING', 'bob: an order without stock waits for the vendor');
my $claims = router_sql(q{SELECT string_agg(job_id || ':' || lease_token || ':' || order_id || ':' || items, ',' ORDER BY order_id)
	FROM orders_router.claim_vendor_jobs('router-test', 10)});
my @claims = map { [ split /:/ ] } split /,/, $claims;
is(scalar @claims, 4, 'claim_vendor_jobs on every shard: alice\'s 3 and bob\'s 1');
is(join(',', sort map { $_->[0] % 16 } @claims), '0,0,0,1', 'each job id names its shard');
for my $c (@claims)
{
	my ($job, $token, $order, $items) = @$c;
	like(router_sql(qq{SELECT orders_router.report_vouchers_fetched($job, '$token',
		jsonb_build_array(jsonb_build_object('card_number', 'V-$order', 'pin_code', '0000',
			'expires_at', now() + interval '1 year')))}),
		qr/DELIVERED/, "job $job reported on its shard through the router");
}
$r = call('GET', "/api/v1/orders/$bob_delayed", as => $bob);
is($r->{json}{status}, 'DELIVERED', 'bob: delivered after the vendor report');
is($r->{json}{vouchers}[0]{card_number}, "V-$bob_delayed", 'bob: the vendor\'s voucher');

# ---- tokens -----------------------------------------------------------------------------------

$r = call('POST', '/api/v1/auth/token', as => $bob);
is($r->{status}, 200, 'token: 200 through the router');
my $bob_token = $r->{json}{access_token};
$r = call('GET', '/api/v1/orders', bearer => $bob_token);
is($r->{status}, 200, 'token: bob lists his orders with it (routed by its kid)');
is($r->{headers}{'x-total-count'}, 2, 'token: bob\'s two orders');
# The router reads the kid without verifying: a token naming alice's key
# but signed by nobody goes to alice's shard, which refuses it.
my ($h, $p) = split /\./, $bob_token;
(my $forged_payload = $p) =~ tr/-_/+\//;
my $claims_json = decode_json(MIME::Base64::decode_base64($forged_payload));
$claims_json->{kid} = $alice->{key};
$claims_json->{client_id} = $alice->{id} + 0;
my $forged = MIME::Base64::encode_base64($json->encode($claims_json), '');
$forged =~ tr/+\//-_/;
$forged =~ s/=+$//;
error_is(call('GET', '/api/v1/orders', bearer => "$h.$forged.AAAA"),
	401, 'unauthorized', 'Invalid or expired access token', 'a forged token naming alice\'s key');
$r = call('POST', '/api/v1/auth/token', bearer => $bob_token);
is($r->{status}, 401, 'token: a token is not exchanged for another');

# The OAuth 2.0 client-credentials grant: the key as client_id in a form
# body, or in HTTP Basic, routed by the client_id to its client's shard; a
# client not on the shard the path's hash picks, so that only the client_id
# can lead there.
my $token_path_shard = router_sql(q{SELECT abs(hashtext('/api/v1/auth/token') % 3)});
my ($oauth) = grep {
	router_sql("SELECT shard FROM orders_router.placement WHERE client_id = $_->{id}") ne $token_path_shard
} ($bob, $carol, $alice);
ok(defined $oauth, "a client off the token path's hash shard");
$r = call('POST', '/api/v1/auth/token',
	headers => { 'Content-Type' => 'application/x-www-form-urlencoded' },
	body => "grant_type=client_credentials&client_id=$oauth->{key}&client_secret=$oauth->{secret}");
is($r->{status}, 200, 'OAuth form body: 200 through the router (routed by client_id)');
is(call('GET', '/api/v1/orders', bearer => $r->{json}{access_token})->{status}, 200, 'OAuth form body: its token works');
$r = call('POST', '/api/v1/auth/token',
	headers => { 'Content-Type' => 'application/x-www-form-urlencoded',
				 Authorization => 'Basic ' . MIME::Base64::encode_base64("$oauth->{key}:$oauth->{secret}", '') },
	body => 'grant_type=client_credentials');
is($r->{status}, 200, 'OAuth HTTP Basic: 200 through the router (routed by its client_id)');
$r = call('POST', '/api/v1/auth/token',
	headers => { 'Content-Type' => 'application/x-www-form-urlencoded',
				 Authorization => 'Basic ' . MIME::Base64::encode_base64("$oauth->{key}:wrong-secret", '') },
	body => 'grant_type=client_credentials');
is($r->{status}, 401, 'OAuth HTTP Basic, wrong secret: 401');
is($r->{json}{error}, 'invalid_client', 'OAuth HTTP Basic, wrong secret: invalid_client, as on a single server');

# ---- rate limits: per client, on its shard ----------------------------------------------------

$shards[2]->safe_psql('postgres', 'ALTER SYSTEM SET orders.rate_limit_burst = 10; SELECT pg_reload_conf()');
my $limited;
for (1 .. 20)
{
	$r = call('GET', '/api/v1/products', as => $carol);
	if ($r->{status} == 429) { $limited = $r; last; }
}
ok(defined $limited, 'carol (shard 2, burst 10) gets a 429');
error_is($limited, 429, 'rate_limit_exceeded', 'Too many requests. Please try again later.', 'burst on shard 2')
  if $limited;
like($limited->{headers}{'retry-after'} // '', qr/^[1-9]\d*$/, '429: Retry-After') if $limited;
is($limited->{headers}{'ratelimit-limit'}, 10, '429: RateLimit-Limit of shard 2') if $limited;
my $alice_ok = 1;
for (1 .. 20) { $alice_ok &&= call('GET', '/api/v1/products', as => $alice)->{status} == 200; }
ok($alice_ok, 'alice (shard 0) makes 20 requests meanwhile: her limits are her shard\'s');
$shards[2]->safe_psql('postgres', 'ALTER SYSTEM RESET orders.rate_limit_burst; SELECT pg_reload_conf()');

# ---- operator reads over every shard ---------------------------------------------------------

is(router_sql('SELECT count(*) FROM orders_router.verify_ledger()'), '0', 'verify_ledger on every shard: none');
is(router_sql(q{SELECT orders || ' ' || by_shard FROM orders_router.order_stats() WHERE status = 'DELIVERED'}),
	'9 {"0": 6, "1": 2, "2": 1}', 'order_stats: delivered orders over every shard, and per shard');
is(router_sql('SELECT jsonb_array_length(orders_router.run_maintenance())'), '3', 'run_maintenance: one result per shard');

# ---- metrics through the router -------------------------------------------------------------

# GET /metrics of the gateway on the router: the gateway's own series and
# every shard's, each labelled with its shard (the gateway's login role
# reads them on the shards: schema/77_metrics.sql).  Returns the text and
# a map "name{labels}" -> value.
sub scrape
{
	my $r = $http->get("http://127.0.0.1:$mport/metrics");
	my %v = map { /^(\S+) (\S+)$/ ? ($1 => $2) : () } grep { !/^#/ } split /\n/, $r->{content} // '';
	return ($r->{content} // '', \%v);
}
my ($scrape, $m) = scrape();
is($m->{orders_gateway_database_metrics_up}, 1, 'metrics: the gateway on the router reads the database metrics');
is(join(' ', map { $m->{"orders_router_shard_up{shard=\"$_\"}"} // 'absent' } 0 .. 2), '1 1 1',
	'metrics: every shard answered');
is(join(' ', map { $m->{"orders_orders{shard=\"$_\",status=\"DELIVERED\"}"} // 'absent' } 0 .. 2), '6 2 1',
	'metrics: delivered orders of each shard, as order_stats counts them');
is(scalar(() = $scrape =~ /^# TYPE orders_orders /mg), 1, 'metrics: one family per metric over the shards');
is(join(' ', map { defined $m->{"orders_vendor_jobs{shard=\"$_\",state=\"queued\"}"} ? 1 : 0 } 0 .. 2), '1 1 1',
	'metrics: the vendor queue of every shard');
unlike($scrape, qr/orders_orders\{status=/, 'metrics: no series without its shard label');
SKIP:
{
	skip 'promtool is not installed (Debian package prometheus)', 1
	  unless system('command -v promtool >/dev/null 2>&1') == 0;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ 'promtool', 'check', 'metrics' ], '<', \$scrape, '>', \$out, '2>', \$err);
	ok($ok, 'metrics: promtool check metrics on the router\'s scrape') or diag("$out$err");
}


# ---- webhooks with shards ----------------------------------------------------------------------

# The management routes go through the router to the client's shard; one
# orders-webhookd serves every shard (a --conninfo each); a receiver that
# verifies the Standard Webhooks signature with the endpoint's secret.
my $rcv = start_receiver();
sub register
{
	my ($who, $path) = @_;
	my $r = call('POST', '/api/v1/webhooks', as => $who,
		body => { url => "http://127.0.0.1:$rcv->{port}$path", eventTypes => ['order.placed', 'order.delivered'],
				  description => 'scale-out test' });
	is($r->{status}, 201, "$who->{name}: POST /api/v1/webhooks through the router: 201");
	my $data = $r->{json}{data} // $r->{json};
	receiver_secret($rcv, $path, $data->{secret});
	return $data->{id};
}
my $bob_hook = register($bob, '/bob');
my $alice_hook = register($alice, '/alice');
is($bob_hook % 16, 1, "bob's endpoint is numbered by shard 1");
is($shards[1]->safe_psql('postgres', "SELECT client_id FROM orders.webhook_endpoints WHERE id = $bob_hook"),
	$bob->{id}, "bob's endpoint is on his shard");
is($shards[0]->safe_psql('postgres', "SELECT client_id FROM orders.webhook_endpoints WHERE id = $alice_hook"),
	$alice->{id}, "alice's endpoint is on hers");
sub hook_ids
{
	my ($who) = @_;
	my $r = call('GET', '/api/v1/webhooks', as => $who);
	my $list = ref $r->{json} eq 'ARRAY' ? $r->{json} : $r->{json}{data};
	return join(',', map { $_->{id} } @{ $list // [] });
}
is(hook_ids($bob), $bob_hook, 'GET /api/v1/webhooks: bob sees his endpoint only');
is(hook_ids($alice), $alice_hook, 'GET /api/v1/webhooks: alice sees hers only');
is(call('GET', "/api/v1/webhooks/$alice_hook", as => $bob)->{status}, 404,
	"bob (shard 1) cannot read alice's endpoint (shard 0)");

my $webhookd_log = "$PostgreSQL::Test::Utils::log_path/webhookd-scale-out.log";
my $webhookd = start_process([ webhookd_bin(),
	(map { ('--conninfo', $_->connstr('postgres') . ' user=webhookd') } @shards),
	'--sender', 'scale-out', '--poll-interval', '0.2', '--connect-timeout', '1', '--timeout', '2',
	'--lease', '5', '--allow-private-addresses' ], $webhookd_log);

# The events of an order, as the receiver got them: "type verified" each.
sub events_of
{
	my ($path, $order) = @_;
	return join(' ', map { "$_->{event}{type} " . ($_->{verified} ? 'verified' : 'UNVERIFIED') }
		grep { ($_->{event}{data}{id} // '') eq $order } @{ received($rcv, $path) });
}
my ($bwr, $bob_hooked) = place($bob, poNumber => 'PO-B-HOOK');
ok(wait_for(sub { events_of('/bob', $bob_hooked) eq 'order.placed verified order.delivered verified' }, 30),
	"one webhookd: bob's order on shard 1 delivered its two events, signed with his endpoint's secret")
  or diag(events_of('/bob', $bob_hooked), "\n", slurp_file($webhookd_log));
my ($awr, $alice_hooked) = place($alice, poNumber => 'PO-A-HOOK');
push @alice_ids, $alice_hooked;
ok(wait_for(sub { events_of('/alice', $alice_hooked) eq 'order.placed verified order.delivered verified' }, 30),
	"the same daemon: alice's order on shard 0 too")
  or diag(events_of('/alice', $alice_hooked));
like(slurp_file($webhookd_log), qr/starting as sender "scale-out": 3 databases/, 'webhookd: three databases');
ok(wait_for(sub { $shards[0]->safe_psql('postgres',
	"SELECT count(*) FILTER (WHERE status <> 'succeeded') || '/' || count(*) FROM orders.webhook_deliveries WHERE client_id = $alice->{id}") eq '0/2' }, 10),
	"alice's two deliveries are reported succeeded on her shard");

# ---- moving a client ---------------------------------------------------------------------------

# What alice reads before the move: her list, every order with its
# vouchers, her webhook endpoint and its deliveries with their attempts,
# and a token issued by shard 0.
sub alice_view
{
	my @view;
	for my $path ('/api/v1/orders?limit=100', "/api/v1/webhooks/$alice_hook",
		"/api/v1/webhooks/$alice_hook/deliveries")
	{
		my $r = call('GET', $path, as => $alice);
		push @view, $r->{status}, $r->{content};
	}
	for my $id (@alice_ids)
	{
		my $d = call('GET', "/api/v1/orders/$id", as => $alice);
		push @view, $d->{status}, $d->{content};
	}
	return \@view;
}
my $before = alice_view();
ok((grep { /"card_number"/ } @$before) >= 6, 'alice\'s six orders show their vouchers before the move');
$r = call('POST', '/api/v1/auth/token', as => $alice);
my $alice_token = $r->{json}{access_token};
my $alice_rows = $shards[0]->safe_psql('postgres', qq{
	SELECT (SELECT count(*) FROM orders.orders WHERE client_id = $alice->{id}) || ' ' ||
		   (SELECT count(*) FROM orders.ledger_entries WHERE client_id = $alice->{id}) || ' ' ||
		   (SELECT count(*) FROM orders.order_items i JOIN orders.inventory_units u ON u.id = i.unit_id
			WHERE i.client_id = $alice->{id})});
my $alice_balance = $shards[0]->safe_psql('postgres', "SELECT balance FROM orders.wallets WHERE client_id = $alice->{id}");

router_sql("CALL orders_router.move_client($alice->{id}, 2)");
is(router_sql("SELECT shard || ' ' || placed_by || ' ' || frozen FROM orders_router.placement WHERE client_id = $alice->{id}"),
	'2 move false', 'move: alice placed on shard 2, not frozen');
is($shards[0]->safe_psql('postgres', qq{
	SELECT (SELECT count(*) FROM orders.clients WHERE id = $alice->{id})
		 + (SELECT count(*) FROM orders.orders WHERE client_id = $alice->{id})
		 + (SELECT count(*) FROM orders.ledger_entries WHERE client_id = $alice->{id})
		 + (SELECT count(*) FROM orders.api_keys WHERE client_id = $alice->{id})}),
	'0', 'move: nothing of alice is left on shard 0');
is($shards[2]->safe_psql('postgres', qq{
	SELECT (SELECT count(*) FROM orders.orders WHERE client_id = $alice->{id}) || ' ' ||
		   (SELECT count(*) FROM orders.ledger_entries WHERE client_id = $alice->{id}) || ' ' ||
		   (SELECT count(*) FROM orders.order_items i JOIN orders.inventory_units u ON u.id = i.unit_id
			WHERE i.client_id = $alice->{id})}),
	$alice_rows, 'move: her orders, ledger entries and voucher units are on shard 2');
is($shards[2]->safe_psql('postgres', "SELECT balance FROM orders.wallets WHERE client_id = $alice->{id}"),
	$alice_balance, 'move: her balance unchanged');
is($shards[2]->safe_psql('postgres', "SELECT string_agg(id::text, ',' ORDER BY id) FROM orders.orders WHERE client_id = $alice->{id}"),
	join(',', sort { $a <=> $b } @alice_ids), 'move: her orders keep their ids');
for my $i (0 .. 2)
{
	is($shards[$i]->safe_psql('postgres', 'SELECT count(*) FROM orders.verify_ledger()'),
		'0', "move: verify_ledger() empty on shard $i");
}
is_deeply(alice_view(), $before,
	'move: her list, every order with its vouchers, her endpoint and its deliveries read back identically');
ok((grep { /"status"\s*:\s*"succeeded"/ } @$before), 'her deliveries were part of what was compared');
is($shards[2]->safe_psql('postgres', qq{
	SELECT (SELECT count(*) FROM orders.webhook_endpoints WHERE client_id = $alice->{id} AND id = $alice_hook) || ' ' ||
		   (SELECT count(*) FROM orders.webhook_deliveries WHERE client_id = $alice->{id}) || ' ' ||
		   (SELECT count(*) FROM orders.webhook_attempts WHERE client_id = $alice->{id})}),
	'1 2 2', 'move: her endpoint (same id), deliveries and attempts are on shard 2');
is($shards[0]->safe_psql('postgres', qq{
	SELECT (SELECT count(*) FROM orders.webhook_endpoints WHERE client_id = $alice->{id})
		 + (SELECT count(*) FROM orders.webhook_deliveries WHERE client_id = $alice->{id})}),
	'0', 'move: none of them is left on shard 0');
$r = call('GET', '/api/v1/orders', bearer => $alice_token);
is($r->{status}, 200, 'move: the token shard 0 issued works on shard 2 (same secrets)');
my ($ar, $after_id) = place($alice, poNumber => 'PO-A-AFTER');
is($ar->{status}, 201, 'move: alice places an order on shard 2');
is($after_id % 16, 2, 'move: a new order of alice has an id of shard 2');
ok(wait_for(sub { events_of('/alice', $after_id) eq 'order.placed verified order.delivered verified' }, 30),
	'move: her new order\'s events come from shard 2, signed with the secret that moved (the receiver verifies)')
  or diag(events_of('/alice', $after_id));
is($shards[2]->safe_psql('postgres', "SELECT count(*) FROM orders.webhook_deliveries WHERE client_id = $alice->{id}"),
	'4', 'move: those deliveries are shard 2\'s');
ok($after_id > (sort { $b <=> $a } @alice_ids)[0], 'move: numbered above her old orders');
$r = call('GET', '/api/v1/orders?limit=1', as => $alice);
is((ref $r->{json} eq "ARRAY" ? $r->{json} : $r->{json}{data})->[0]{id}, $after_id, 'move: her newest order lists first');
error_is(call('GET', "/api/v1/orders/$first{ $carol->{id} }", as => $alice),
	404, 'not_found', undef, "move: alice (now on shard 2) still cannot read carol's order there");

my ($ok, $out, $err);
# A shard whose vault key 1 is another key than the others' (its key file
# made for it alone): check_shards says so, and a move of a client with
# vouchers and webhook secrets there is refused (they could be neither
# decrypted nor sign there), the client thawed where it was.
my $odd = start_cluster('shard3');
{
	open(my $kf, '>', $odd->basedir . '/vault.keys') or die $!;
	print $kf '1:' . ('a5' x 32) . "\n";
	close $kf;
}
$odd->restart;
$odd->safe_psql('postgres', $copy_secrets);
is(router_sql("SELECT orders_router.add_shard('host=" . $odd->host . ' port=' . $odd->port
	  . " dbname=postgres connect_timeout=2')"), '3', 'a fourth shard added');
is(router_sql('SELECT shard || \': \' || problem FROM orders_router.check_shards()'),
	"3: vault key 1 differs from shard 0's key of that id", 'check_shards: same key id, another key');
my $carol_hook = register($carol, '/carol');
($ok, $out, $err) = $router->psql('postgres', "CALL orders_router.move_client($carol->{id}, 3)");
like($err, qr/vault key 1 of this shard is not the key of that id/, 'move to that shard refused');
is(router_sql("SELECT shard || ' ' || frozen FROM orders_router.placement WHERE client_id = $carol->{id}"),
	'2 false', 'the refused move left carol on shard 2, thawed');
is($odd->safe_psql('postgres', "SELECT count(*) FROM orders.clients WHERE id = $carol->{id}"), '0',
	'nothing of carol arrived there');
is(call('GET', "/api/v1/webhooks/$carol_hook", as => $carol)->{status}, 200, 'carol is served after the refused move');
router_sql('DELETE FROM orders_router.shards WHERE shard = 3');
$odd->stop('fast');

# A move that cannot happen leaves the client where it was, thawed.
my ($jr, $job_order) = place($bob, poNumber => 'PO-B-OPEN', productId => 5102, denomination => 10);
($ok, $out, $err) = $router->psql('postgres', "CALL orders_router.move_client($bob->{id}, 0)");
like($err, qr/open vendor jobs/, 'move refused while bob has an open vendor job');
is(router_sql("SELECT shard || ' ' || frozen FROM orders_router.placement WHERE client_id = $bob->{id}"),
	'1 false', 'the refused move left bob on shard 1, thawed');
is(call('GET', "/api/v1/orders/$job_order", as => $bob)->{status}, 200, 'bob is served after the refused move');

# The sandbox vendor over every shard: bob's open job (shard 1) and one of
# carol's (shard 2) in one round, its counts added up.
my ($sr, $carol_pending) = place($carol, poNumber => 'PO-C-SANDBOX', productId => 5102, denomination => 10);
is($sr->{json}{data}{placeOrder}{data}{orderStatus}, 'PENDING', 'carol: an order waiting for the vendor');
is(router_sql('SELECT orders_router.sandbox_vendor_round(20)'), '{"ok": 2}',
	'sandbox_vendor_round on every shard: two jobs answered ok');
is(call('GET', "/api/v1/orders/$job_order", as => $bob)->{json}{status}, 'DELIVERED', 'bob: delivered by the sandbox vendor');
is(call('GET', "/api/v1/orders/$carol_pending", as => $carol)->{json}{status}, 'DELIVERED', 'carol: delivered by the sandbox vendor');

# ---- a frozen client ---------------------------------------------------------------------------

router_sql("SELECT orders_router.set_frozen($carol->{id}, true)");
$r = call('GET', '/api/v1/orders', as => $carol);
error_is($r, 503, 'service_unavailable', undef, 'a frozen (moving) client');
like($r->{headers}{'retry-after'} // '', qr/^\d+$/, 'frozen: Retry-After');
router_sql("SELECT orders_router.set_frozen($carol->{id}, false)");
is(call('GET', '/api/v1/orders', as => $carol)->{status}, 200, 'thawed: served again');

# ---- one shard down ------------------------------------------------------------------------------

$shards[1]->stop('fast');
$r = call('GET', '/api/v1/orders', as => $bob);
error_is($r, 503, 'service_unavailable', 'The service is temporarily unavailable. Please try again later.',
	"shard 1 down: bob's request");
like($r->{headers}{'retry-after'} // '', qr/^\d+$/, 'shard 1 down: Retry-After');
$r = call('POST', '/api/v1/orders', as => $bob, body => order_body(poNumber => 'PO-B-DOWN'));
is($r->{status}, 503, 'shard 1 down: bob cannot place an order either');
is(call('GET', '/api/v1/orders', as => $alice)->{status}, 200, 'shard 1 down: alice (shard 2) is served');
is(call('GET', '/api/v1/orders', as => $dave)->{status}, 404, 'shard 1 down: dave (shard 0) gets his own answer');
($scrape, $m) = scrape();
is($m->{orders_gateway_database_metrics_up}, 1, 'shard 1 down: the scrape still reads the database metrics');
is(join(' ', map { $m->{"orders_router_shard_up{shard=\"$_\"}"} // 'absent' } 0 .. 2), '1 0 1',
	'shard 1 down: orders_router_shard_up says which');
ok(!(grep { /shard="1"/ && !/^orders_router_shard_up/ } keys %$m) && defined $m->{'orders_orders{shard="2",status="DELIVERED"}'},
	'shard 1 down: its series are absent, the others\' are there');
my ($cr2) = place($carol, poNumber => 'PO-C-DURING');
is($cr2->{status}, 201, 'shard 1 down: carol (shard 2) places an order');
$shards[1]->start;
$r = call('GET', '/api/v1/orders', as => $bob);
is($r->{status}, 200, 'shard 1 back: bob is served at once, router and gateway not restarted');
($r) = place($bob, poNumber => 'PO-B-DOWN');
is($r->{status}, 201, 'shard 1 back: bob places the order refused while it was down');
is(router_sql('SELECT count(*) FROM orders_router.verify_ledger()'), '0', 'verify_ledger on every shard at the end: none');

done_testing();
