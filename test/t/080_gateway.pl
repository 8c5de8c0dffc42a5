# The REST gateway over real HTTP: a cluster with orders preloaded, the
# gateway started on a free port as a login role that may only become
# orders_api, and HTTP::Tiny (plus a raw socket for malformed requests)
# against it.  Covers every endpoint, every error status with its body,
# pagination, replay and conflict, isolation between clients, the burst
# limit, vouchers only once delivered, size limits, a database restart
# and a clean stop on SIGTERM with a request in flight.
use strict;
use warnings FATAL => 'all';

use B;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use lib dirname(__FILE__);

use GatewayHarness ();
use HTTP::Tiny;
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use POSIX qw(ceil);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $gateway_bin = abs_path(dirname(__FILE__) . '/../../gateway/orders-gateway');
ok(defined $gateway_bin && -x $gateway_bin, 'the gateway is built')
  or BAIL_OUT('gateway/orders-gateway is missing: make all');

my $json = JSON::PP->new->canonical;

# ---- the cluster ----------------------------------------------------------

my $node = PostgreSQL::Test::Cluster->new('gateway');
$node->init;
# The vault's key file: readable by the server only.
my $key_file = $node->basedir . '/vault.keys';
open(my $kf, '>', $key_file) or die "$key_file: $!";
print $kf '1:' . ('5a' x 32) . "\n";
close $kf;
chmod 0600, $key_file;
# Rate limits stay on (preloaded) but high for the functional part; the
# burst test lowers them.
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'orders'
orders.vault_key_file = '$key_file'
orders.rate_limit_burst = 100000
orders.rate_limit_per_minute = 100000
orders.rate_limit_order_reads_per_hour = 100000
});
$node->start;
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION orders CASCADE;
-- what the documentation tells an operator to create for the gateway
CREATE ROLE gateway LOGIN IN ROLE orders_authenticator;
});

# ---- fixtures: clients, keys, products, money, stock -----------------------

sub new_client
{
	my ($name, $funds) = @_;
	return GatewayHarness::new_client($node, $name, $funds);
}

# Two gift card products: 5101 in stock (INSTANT), 5102 without stock.
$node->safe_psql(
	'postgres', q{
INSERT INTO orders.products (id, name, currency, denominations, order_quantity_limit)
VALUES (5101, 'Gateway Gift Card', 'USD', '{10,25}', 5),
	   (5102, 'Gateway Delayed Card', 'USD', '{10}', 5);
});

sub load_units
{
	my ($product, $denomination, $n, $prefix) = @_;
	$node->safe_psql(
		'postgres', qq{
SELECT count(*) FROM orders.load_inventory((
	SELECT jsonb_agg(jsonb_build_object(
		'product_id', $product, 'denomination', $denomination,
		'card_number', '$prefix-' || i, 'pin_code', lpad(i::text, 4, '0'),
		'expires_at', now() + interval '1 year'))
	FROM generate_series(1, $n) AS i));
});
}
load_units(5101, 25, 40, 'GWCARD');

my $alice = new_client('gateway alice', 10000);
my $bob = new_client('gateway bob', 10000);
my $poor = new_client('gateway poor', 5);

# ---- the gateway ----------------------------------------------------------

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $base = "http://127.0.0.1:$port";
my $gateway_log = "$PostgreSQL::Test::Utils::tmp_check/gateway.log";
my $conninfo = $node->connstr('postgres') . ' user=gateway';
my $gateway = IPC::Run::start(
	[
		$gateway_bin, '--port', $port, '--conninfo', $conninfo,
		'--pool-size', '3', '--acquire-timeout', '2000'
	],
	'<', \undef, '>>', $gateway_log, '2>>', $gateway_log);

# If the test dies half way, do not leave the gateway running.
END { eval { $gateway->kill_kill(grace => 2) } if $gateway; }

my $http = HTTP::Tiny->new(timeout => 60);

sub wait_for_health
{
	for (1 .. 100)
	{
		my $r = $http->get("$base/api/v1/health");
		return 1 if $r->{status} == 200;
		select(undef, undef, undef, 0.1);
	}
	return 0;
}
ok(wait_for_health(), 'the gateway answers /api/v1/health');

# One HTTP request.  as => client (key + secret), bearer => token,
# headers => {...}, body => text or a Perl structure (sent as JSON).
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
	conforms($method, $path, $r);
	return $r;
}

# ---- every answer must be one the API description documents -------------------

my $openapi;    # the document the gateway serves

sub resolve
{
	my ($node) = @_;
	while (ref $node eq 'HASH' && defined $node->{'$ref'})
	{
		my $ref = $node->{'$ref'};
		$node = $openapi;
		$node = $node->{$_} for split m{/}, substr($ref, 2);
	}
	return $node;
}

# The JSON type of a decoded value (JSON::PP keeps numbers numeric).
sub json_type
{
	my ($v) = @_;
	return 'null' unless defined $v;
	return 'boolean' if JSON::PP::is_bool($v);
	return 'object' if ref $v eq 'HASH';
	return 'array' if ref $v eq 'ARRAY';
	my $flags = B::svref_2object(\$v)->FLAGS;
	if (($flags & (B::SVp_IOK | B::SVp_NOK)) && !($flags & B::SVp_POK))
	{
		return $v == int($v) ? 'integer' : 'number';
	}
	return 'string';
}

# What is wrong with a value against a schema (the subset the document
# uses: type, enum, pattern, required, properties, items, oneOf, $ref).
sub schema_errors
{
	my ($schema, $v, $where) = @_;
	$schema = resolve($schema);
	if (my $alternatives = $schema->{oneOf})
	{
		my $n = grep { !schema_errors($_, $v, $where) } @$alternatives;
		return $n == 1 ? () : ("$where: matches $n alternatives of oneOf");
	}
	if (defined(my $t = $schema->{type}))
	{
		my $actual = json_type($v);
		return ("$where: $actual, expected " . join('|', ref $t ? @$t : $t))
		  unless grep { $_ eq $actual || ($_ eq 'number' && $actual eq 'integer') }
		  (ref $t ? @$t : $t);
	}
	if (my $enum = $schema->{enum})
	{
		return ("$where: not one of the documented values")
		  unless grep { defined $_ ? defined $v && !ref $v && $v eq $_ : !defined $v } @$enum;
	}
	my @errors;
	push @errors, "$where: does not match $schema->{pattern}"
	  if defined $schema->{pattern} && defined $v && !ref $v && $v !~ /$schema->{pattern}/;
	if (ref $v eq 'HASH')
	{
		exists $v->{$_} or push @errors, "$where.$_: missing" for @{ $schema->{required} // [] };
		my $properties = $schema->{properties} // {};
		push @errors, schema_errors($properties->{$_}, $v->{$_}, "$where.$_")
		  for grep { exists $v->{$_} } sort keys %$properties;
	}
	if (ref $v eq 'ARRAY' && $schema->{items})
	{
		my $i = 0;
		push @errors, schema_errors($schema->{items}, $_, $where . '[' . $i++ . ']') for @$v;
	}
	return @errors;
}

# The status must be documented for the operation, the body must match.
sub conforms
{
	my ($method, $path, $r) = @_;
	return unless $openapi;
	(my $p = $path) =~ s/\?.*//s;
	my ($template) = grep {
		my $re = join('[^/]+', map { quotemeta } split(/\{[^}]+\}/, $_, -1));
		$p =~ /^$re$/
	} sort keys %{ $openapi->{paths} };
	my $operation = $template && $openapi->{paths}{$template}{ lc $method };
	unless ($operation)
	{
		# Not in the document: only the gateway's answer to a path or a
		# method it does not serve is allowed, never a silent pass.
		ok($r->{status} == 404 || $r->{status} == 405,
			"$method $p: not in the document, so answered 404 or 405")
		  or diag("status $r->{status}");
		return;
	}
	my $response = $operation->{responses}{ $r->{status} };
	ok($response, "$method $template: status $r->{status} is documented") or return;
	my $schema = resolve($response)->{content}{'application/json'}{schema};
	my @errors = $schema ? schema_errors($schema, $r->{json}, 'body') : ();
	ok(!@errors, "$method $template: the $r->{status} body is as documented")
	  or diag(join("\n", @errors));
}

# A request written byte by byte on a socket: what HTTP::Tiny will not send.
sub raw_request
{
	my ($request) = @_;
	my $sock = IO::Socket::INET->new(
		PeerAddr => '127.0.0.1',
		PeerPort => $port,
		Proto => 'tcp',
		Timeout => 30) or die "connect: $!";
	print $sock $request;
	local $/;
	my $response = <$sock>;
	close $sock;
	my ($status) = $response =~ m{^HTTP/1\.[01] (\d{3})};
	my ($body) = $response =~ m{\r\n\r\n(.*)\z}s;
	return { status => $status, content => $body, raw => $response };
}

sub error_is
{
	my ($r, $status, $error, $message, $name) = @_;
	is($r->{status}, $status, "$name: status $status");
	like($r->{headers}{'content-type'} // '', qr{^application/json}, "$name: JSON content type");
	is($r->{json}{error}, $error, "$name: error $error");
	if (ref $message eq 'Regexp')
	{
		like($r->{json}{message}, $message, "$name: message");
	}
	elsif (defined $message)
	{
		is($r->{json}{message}, $message, "$name: message");
	}
}

sub order_body
{
	my (%data) = @_;
	return { data => { productId => 5101, quantity => 1, denomination => 25,
		email => 'buyer@example.com', %data } };
}

# ---- the gateway's own resources -------------------------------------------

my $r = call('GET', '/api/v1/openapi.json');
is($r->{status}, 200, 'openapi.json: 200');
$openapi = $r->{json};
like($r->{json}{openapi} // '', qr/^3\./, 'openapi.json: an OpenAPI 3 document');
ok( exists $r->{json}{paths}{$_},
	"openapi.json describes $_")
  for qw(/api/v1/orders /api/v1/orders/{id} /api/v1/products /api/v1/charges
  /api/v1/auth/token /api/v1/health);
error_is(call('POST', '/api/v1/openapi.json', body => {}),
	405, 'method_not_allowed', undef, 'POST openapi.json');

$r = call('GET', '/api/v1/health');
is($r->{status}, 200, '/api/v1/health: 200 through api.dispatch');
is($r->{json}{rate_limits}, 'on', '/api/v1/health: rate limits on (preloaded)');

# ---- authentication ---------------------------------------------------------

error_is(call('GET', '/api/v1/orders'),
	401, 'unauthorized', 'Invalid or expired access token', 'no credentials');
error_is(call('GET', '/api/v1/orders', as => { key => $alice->{key}, secret => 'wrong' }),
	401, 'unauthorized', 'Invalid or expired access token', 'wrong secret');
error_is(call('GET', '/api/v1/orders', bearer => 'not.a.token'),
	401, 'unauthorized', 'Invalid or expired access token', 'bad bearer token');

$r = call('POST', '/api/v1/auth/token', as => $alice);
is($r->{status}, 200, 'token: 200');
is($r->{json}{token_type}, 'Bearer', 'token: Bearer');
my $token = $r->{json}{access_token};
like($token // '', qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'token: a JWT');
is(call('GET', '/api/v1/products', bearer => $token)->{status}, 200, 'a bearer token authenticates');

# ---- OAuth 2.0 client credentials, with a standard client library ---------
# simple-oauth2 (npm, pinned in tools/oauth-client/) obtains the token the
# way an integrator's code would: it is told the token URL, the client id
# (the key id) and secret, and whether to authenticate in the form body or
# with HTTP Basic.  Its output is one JSON line (tools/oauth-client/get-token.js).

my $oauth_client = abs_path(dirname(__FILE__) . '/../../scripts/oauth-client.sh');

sub oauth_token
{
	my (%opt) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (
		%ENV,
		OAUTH_TOKEN_HOST => $base,
		OAUTH_CLIENT_ID => $opt{client}{key},
		OAUTH_CLIENT_SECRET => $opt{secret} // $opt{client}{secret},
		OAUTH_AUTH_METHOD => $opt{method},
		OAUTH_SCOPE => $opt{scope} // '');
	IPC::Run::run([$oauth_client], '<', \undef, '>', \$out, '2>', \$err)
	  or diag("oauth client failed: $err");
	return eval { decode_json($out) } // { ok => 0, status => 0, body => { error => "no output: $err" } };
}

for my $method (qw(body header))
{
	my $got = oauth_token(client => $alice, method => $method, scope => $method eq 'header' ? 'orders' : undef);
	ok($got->{ok}, "simple-oauth2 ($method): obtains a token")
	  or diag(explain($got->{body}));
	is($got->{token}{token_type}, 'Bearer', "simple-oauth2 ($method): token_type Bearer");
	ok(($got->{token}{expires_in} // 0) > 0, "simple-oauth2 ($method): expires_in");
	$r = call('GET', '/api/v1/products', bearer => $got->{token}{access_token});
	is($r->{status}, 200, "simple-oauth2 ($method): its token authenticates the API");
	$got = oauth_token(client => $alice, method => $method, secret => 'wrong-secret-0123456789');
	is_deeply([ $got->{status}, $got->{body}{error} ], [ 401, 'invalid_client' ],
		"simple-oauth2 ($method), wrong secret: 401 invalid_client");
}

# The raw exchanges: headers of the answers, and the errors a library does
# not provoke.
sub form_token
{
	my ($form, %headers) = @_;
	return call('POST', '/api/v1/auth/token', body => $form,
		headers => { 'Content-Type' => 'application/x-www-form-urlencoded', %headers });
}
sub basic_of
{
	my ($client) = @_;
	require MIME::Base64;
	return 'Basic ' . MIME::Base64::encode_base64("$client->{key}:$client->{secret}", '');
}
$r = form_token("grant_type=client_credentials&client_id=$alice->{key}&client_secret=$alice->{secret}");
is($r->{status}, 200, 'OAuth form body: 200');
is($r->{headers}{'cache-control'}, 'no-store', 'OAuth token: Cache-Control: no-store');
is($r->{headers}{pragma}, 'no-cache', 'OAuth token: Pragma: no-cache');
$r = form_token("grant_type=client_credentials", Authorization => basic_of($alice));
is($r->{status}, 200, 'OAuth HTTP Basic: 200');
$r = form_token("grant_type=client_credentials",
	Authorization => basic_of({ key => $alice->{key}, secret => 'wrong-secret-0123456789' }));
is_deeply([ $r->{status}, $r->{json}{error} ], [ 401, 'invalid_client' ], 'OAuth wrong secret: 401 invalid_client');
like($r->{headers}{'www-authenticate'} // '', qr/^Basic /, 'OAuth invalid_client: WWW-Authenticate: Basic');
$r = form_token("client_id=$alice->{key}&client_secret=$alice->{secret}");
is_deeply([ $r->{status}, $r->{json}{error} ], [ 400, 'invalid_request' ], 'OAuth without grant_type: 400 invalid_request');
$r = form_token("grant_type=password&username=a&password=b", Authorization => basic_of($alice));
is_deeply([ $r->{status}, $r->{json}{error} ], [ 400, 'unsupported_grant_type' ],
	'OAuth grant_type=password: 400 unsupported_grant_type');
$r = form_token("grant_type=client_credentials&scope=admin", Authorization => basic_of($alice));
is_deeply([ $r->{status}, $r->{json}{error} ], [ 400, 'invalid_scope' ], 'OAuth unknown scope: 400 invalid_scope');
ok(defined $r->{json}{error_description}, 'OAuth errors carry error_description');
# A form body is not JSON: the gateway passes it on; invalid UTF-8 in it is
# the gateway's own 400.
error_is(form_token("grant_type=client_credentials&client_id=\xff"),
	400, 'bad_request', qr/not valid form data/, 'OAuth form body that is not UTF-8');
error_is(form_token("grant_type=client_credentials&client_id=a\0b"),
	400, 'bad_request', qr/not valid form data/, 'OAuth form body with a NUL byte');
# JSON routes still check JSON whatever the Content-Type but form.
error_is(call('POST', '/api/v1/orders', as => $alice, body => '{"data": ',
		headers => { 'Content-Type' => 'text/plain' }),
	400, 'bad_request', qr/not valid JSON/, 'a JSON route with a malformed body');

# ---- catalog ----------------------------------------------------------------

$r = call('GET', '/api/v1/products', as => $alice);
is($r->{status}, 200, 'products: 200');
my %products = map { $_->{id} => $_ } @{ $r->{json} // [] };
is($products{5101}{delivery_time}, 'INSTANT', 'products: 5101 in stock is INSTANT');
is($products{5102}{delivery_time}, 'DELAYED', 'products: 5102 without stock is DELAYED');
is_deeply($products{5101}{denominations},
	[ { denomination => '10.00', delivery_time => 'DELAYED' },
	  { denomination => '25.00', delivery_time => 'INSTANT' } ],
	'products: live delivery_time per denomination');

$r = call('POST', '/api/v1/charges', as => $alice,
	body => { data => { productId => 5101, denomination => 25, quantity => 2 } });
is($r->{status}, 200, 'charges: 200');
is($r->{json}{amountCharged}, 50, 'charges: 2 x 25 = 50');
is($r->{json}{currencyCode}, 'USD', 'charges: currency');
is($r->{json}{deliveryTime}, 'INSTANT', 'charges: delivery time');
error_is(call('POST', '/api/v1/charges', as => $alice, body => { data => { productId => 5101 } }),
	400, 'bad_request', qr/denomination/, 'charges without a denomination');

# ---- place order: created, replayed, conflicting ----------------------------

$r = call('POST', '/api/v1/orders', as => $alice, body => order_body(poNumber => 'GW-A-1'));
is($r->{status}, 201, 'create: 201');
my $placed = $r->{json}{data}{placeOrder};
is($placed->{status}, 1, 'create: placeOrder.status 1');
my $order_id = $placed->{data}{orderId};
like($order_id // '', qr/^\d+$/, 'create: an order id');
is($placed->{data}{orderStatus}, 'DELIVERED', 'create: an INSTANT product is delivered at once');
is($r->{headers}{location}, "/api/v1/orders/$order_id", 'create: Location of the new order');

$r = call('POST', '/api/v1/orders', as => $alice, body => order_body(poNumber => 'GW-A-1'));
is($r->{status}, 200, 'replay: 200');
is($r->{json}{data}{placeOrder}{data}{orderId}, $order_id, 'replay: the same order');

error_is(call('POST', '/api/v1/orders', as => $alice,
		body => order_body(poNumber => 'GW-A-1', denomination => 10)),
	409, 'conflict', qr/GW-A-1/, 'same poNumber, other denomination');

# ---- order details and isolation ---------------------------------------------

$r = call('GET', "/api/v1/orders/$order_id", as => $alice);
is($r->{status}, 200, 'details: 200');
is($r->{json}{id}, $order_id, 'details: the order');
is($r->{json}{status}, 'DELIVERED', 'details: DELIVERED');
is($r->{json}{amount}, '25.00', 'details: amount as a 2-decimal string');
is(scalar @{ $r->{json}{vouchers} // [] }, 1, 'details: one voucher');
like($r->{json}{vouchers}[0]{card_number} // '', qr/^GWCARD-\d+$/, 'details: the decrypted card number');
my $alice_card = $r->{json}{vouchers}[0]{card_number};

error_is(call('GET', "/api/v1/orders/$order_id", as => $bob),
	404, 'not_found', 'No Matching Result Found!', "bob reads alice's order");
error_is(call('GET', '/api/v1/orders/999999999', as => $alice),
	404, 'not_found', 'No Matching Result Found!', 'unknown order');
# The reference answers a list without any match with its 404.
$r = call('GET', '/api/v1/orders', as => $bob);
error_is($r, 404, 'not_found', 'No Matching Result Found!', "bob's list, without alice's order");
is($r->{headers}{'x-total-count'}, 0, "bob's X-Total-Count is 0");

# ---- vouchers only once delivered --------------------------------------------

$r = call('POST', '/api/v1/orders', as => $alice,
	body => order_body(productId => 5102, denomination => 10, poNumber => 'GW-A-DELAYED'));
is($r->{status}, 201, 'delayed create: 201');
my $delayed_id = $r->{json}{data}{placeOrder}{data}{orderId};
$r = call('GET', "/api/v1/orders/$delayed_id", as => $alice);
is($r->{json}{status}, 'PENDING', 'delayed: PENDING');
is_deeply($r->{json}{vouchers}, [], 'delayed: no vouchers while PENDING');

# Stock arrives: the restock serves the waiting order first (fulfilment).
load_units(5102, 10, 1, 'GWLATE');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM orders.order_items WHERE order_id = $delayed_id AND unit_id IS NOT NULL"),
	'1', 'delayed: the restock linked the new unit to the waiting item');
$r = call('GET', "/api/v1/orders/$delayed_id", as => $alice);
is($r->{json}{status}, 'DELIVERED', 'delayed: DELIVERED once stock arrived');
like($r->{json}{vouchers}[0]{card_number} // '', qr/^GWLATE-1$/, 'delayed: the voucher appears');

# ---- listing and pagination --------------------------------------------------

my $carol = new_client('gateway carol', 10000);
my @carol_ids;
for my $i (1 .. 7)
{
	$r = call('POST', '/api/v1/orders', as => $carol, body => order_body(poNumber => "GW-C-$i"));
	push @carol_ids, $r->{json}{data}{placeOrder}{data}{orderId};
}
is(scalar(grep { defined } @carol_ids), 7, 'carol placed 7 orders');

my (%seen, @pages);
for my $page (1 .. 4)
{
	$r = call('GET', "/api/v1/orders?limit=3&page=$page", as => $carol);
	is($r->{status}, $page <= 3 ? 200 : 404, "list page $page: " . ($page <= 3 ? 200 : 404));
	is($r->{headers}{'x-page'}, $page, "list page $page: X-Page");
	is($r->{headers}{'x-per-page'}, 3, "list page $page: X-Per-Page");
	is($r->{headers}{'x-total-count'}, 7, "list page $page: X-Total-Count");
	is($r->{headers}{'x-total-pages'}, ceil(7 / 3), "list page $page: X-Total-Pages = ceil(7/3)");
	next if $page > 3;
	push @pages, scalar @{ $r->{json} };
	$seen{ $_->{id} }++ for @{ $r->{json} };
}
is_deeply(\@pages, [ 3, 3, 1 ], 'pages hold 3, 3 and 1 orders');
is_deeply([ sort { $a <=> $b } keys %seen ], [ sort { $a <=> $b } @carol_ids ],
	'the pages hold every order once');

$r = call('GET', '/api/v1/orders', as => $carol);
is($r->{headers}{'x-per-page'}, 10, 'default limit 10');
is($r->{headers}{'x-page'}, 1, 'default page 1');
is($r->{headers}{'x-total-pages'}, 1, '7 orders fit one page of 10');

$r = call('GET', '/api/v1/orders?status=delivered&limit=20&page=1', as => $alice);
is($r->{status}, 200, 'status filter: 200');
ok(@{ $r->{json} } >= 1 && !grep({ $_->{status} ne 'DELIVERED' } @{ $r->{json} }),
	'status filter: only DELIVERED orders');
$r = call('GET', '/api/v1/orders?status=PENDING', as => $alice);
is($r->{status}, 404, 'status filter: no PENDING order left, 404');
is($r->{headers}{'x-total-count'}, 0, 'status filter: X-Total-Count 0');
$r = call('GET', '/api/v1/orders?product_id=5102', as => $alice);
is_deeply([ map { $_->{id} } @{ $r->{json} } ], [$delayed_id], 'product filter');
$r = call('GET', '/api/v1/orders?status=delivered&product_id=5101&limit=50', as => $alice);
is_deeply([ map { $_->{id} } @{ $r->{json} } ], [$order_id], 'combined filters');

# The placed-at range and the poNumber lookup.  Place Order's note 5: a
# client that got a 5xx (here: pretends it lost the answer) confirms by
# poNumber whether the order exists, and places it only if it does not.
$r = call('GET', '/api/v1/orders?placed_from=2000-01-01T00:00:00Z&placed_to=2100-01-01T00:00:00Z&limit=3', as => $carol);
is_deeply([ $r->{status}, $r->{headers}{'x-total-count'} ], [ 200, 7 ], 'placed-at range: all 7 of carol\'s orders');
$r = call('GET', '/api/v1/orders?placed_to=2000-01-01T00:00:00Z', as => $carol);
is_deeply([ $r->{status}, $r->{headers}{'x-total-count'} ], [ 404, 0 ], 'placed-at range before every order: 404');
error_is(call('GET', '/api/v1/orders?placed_from=yesterday', as => $carol),
	400, 'bad_request', qr/placed_from/, 'placed_from not RFC 3339');
$r = call('GET', '/api/v1/orders?po_number=GW-C-3', as => $carol);
is_deeply([ $r->{status}, $r->{headers}{'x-total-count'}, [ map { $_->{id} } @{ $r->{json} } ] ],
	[ 200, 1, [ $carol_ids[2] ] ], 'po_number: the order placed with that poNumber, alone');
my $status_of_it = lc($r->{json}[0]{status} // 'none');
$r = call('GET', "/api/v1/orders?po_number=GW-C-3&status=$status_of_it&placed_from=2000-01-01T00:00:00Z", as => $carol);
is($r->{status}, 200, 'po_number combined with its status and a range');
$r = call('GET', '/api/v1/orders?po_number=GW-C-3&placed_to=2000-01-01T00:00:00Z', as => $carol);
is($r->{status}, 404, 'po_number with a range that excludes it: 404');
$r = call('GET', '/api/v1/orders?po_number=GW-C-3', as => $alice);
is_deeply([ $r->{status}, $r->{headers}{'x-total-count'} ], [ 404, 0 ], 'po_number of another client: 404');
$r = call('GET', '/api/v1/orders?po_number=GW-C-8', as => $carol);
is_deeply([ $r->{status}, $r->{headers}{'x-total-count'} ], [ 404, 0 ], 'po_number never placed: 404, so place it');
$r = call('POST', '/api/v1/orders', as => $carol, body => order_body(poNumber => 'GW-C-8'));
is($r->{status}, 201, 'the order confirmed missing is placed');
my $placed_after_check = $r->{json}{data}{placeOrder}{data}{orderId};
my $oauth = oauth_token(client => $carol, method => 'header');
$r = call('GET', '/api/v1/orders?po_number=GW-C-8', bearer => $oauth->{token}{access_token});
is_deeply([ $r->{status}, [ map { $_->{id} } @{ $r->{json} } ] ], [ 200, [$placed_after_check] ],
	'and is found by its poNumber (with an OAuth token)');
error_is(call('GET', '/api/v1/orders?po_number=', as => $carol),
	400, 'bad_request', qr/po_number/, 'empty po_number');
error_is(call('GET', '/api/v1/orders?po_number=' . ('x' x 101), as => $carol),
	400, 'bad_request', qr/po_number/, 'po_number over 100 characters');

# ---- errors of the API --------------------------------------------------------

error_is(call('GET', '/api/v1/orders?limit=101', as => $alice),
	400, 'bad_request', qr/limit/, 'limit over 100');
error_is(call('GET', '/api/v1/orders?page=0', as => $alice),
	400, 'bad_request', qr/page/, 'page 0');
error_is(call('GET', '/api/v1/orders?status=lost', as => $alice),
	400, 'bad_request', qr/status/, 'unknown status');
error_is(call('POST', '/api/v1/orders', as => $alice,
		body => { data => { productId => 5101, quantity => 1, denomination => 25 } }),
	400, 'bad_request', qr/poNumber/, 'missing poNumber');
error_is(call('POST', '/api/v1/orders', as => $alice,
		body => order_body(poNumber => 'GW-A-QTY', quantity => 6)),
	400, 'bad_request', qr/quantity/, 'quantity over the limit');
error_is(call('POST', '/api/v1/orders', as => $poor,
		body => order_body(poNumber => 'GW-POOR-1')),
	422, 'order_refused', qr/balance/, 'insufficient balance');
error_is(call('GET', '/api/v1/orders/abc', as => $alice),
	400, 'bad_request', qr/id/, 'an order id that is not a number');
error_is(call('GET', '/api/v1/nowhere', as => $alice),
	404, 'not_found', 'No Matching Result Found!', 'unknown path');
$r = call('DELETE', '/api/v1/orders', as => $alice);
error_is($r, 405, 'method_not_allowed', undef, 'DELETE /api/v1/orders');
like($r->{headers}{allow} // '', qr/GET/, '405 says what is allowed');

# A failure inside an operation: 500 with the operation's message, nothing
# of the cause (the catalog's table is renamed away for a moment).
$node->safe_psql('postgres', 'ALTER TABLE orders.products RENAME TO products_away');
error_is(call('GET', '/api/v1/products', as => $alice),
	500, 'internal_error', 'Failed to retrieve products', 'an operation fails');
$node->safe_psql('postgres', 'ALTER TABLE orders.products_away RENAME TO products');

# api.dispatch itself fails (here: the gateway may not call it): the
# gateway's own 500, the SQLSTATE in its log only.
$node->safe_psql('postgres',
	'REVOKE EXECUTE ON FUNCTION api.dispatch(text, text, text, jsonb, text) FROM orders_api, orders_authenticator');
error_is(call('GET', '/api/v1/products', as => $alice),
	500, 'internal_error', 'Internal server error', 'api.dispatch fails');
$node->safe_psql('postgres',
	'GRANT EXECUTE ON FUNCTION api.dispatch(text, text, text, jsonb, text) TO orders_api, orders_authenticator');
is(call('GET', '/api/v1/products', as => $alice)->{status}, 200, 'products again once the grant is back');
like(slurp_file($gateway_log), qr/api\.dispatch failed, SQLSTATE 42501/, 'the log names the SQLSTATE');

# ---- what the gateway refuses itself -------------------------------------------

error_is(call('POST', '/api/v1/orders', as => $alice, body => '{"data": {"productId": 5101,'),
	400, 'bad_request', qr/not valid JSON: .*ended unexpectedly/,
	'truncated JSON');
error_is(call('POST', '/api/v1/orders', as => $alice, body => "{\"data\": \"\xff\"}"),
	400, 'bad_request', qr/invalid UTF-8/, 'body not UTF-8');
error_is(call('POST', '/api/v1/orders', as => $alice, body => '{"a": 1} x'),
	400, 'bad_request', qr/not valid JSON: .*Token "x" is invalid/, 'trailing garbage');
error_is(call('POST', '/api/v1/orders', as => $alice, body => '{"po": "\u0000"}'),
	400, 'bad_request', qr/\\u0000/, '\u0000');

# The gateway lets jsonb check a body before api.dispatch runs: for each
# body, the gateway's verdict (400, or passing the body on to api.dispatch,
# which answers 401 to a request without credentials) must be jsonb's
# verdict on the same bytes.
$node->safe_psql(
	'postgres', q{
CREATE FUNCTION public.is_jsonb(bytes bytea) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM convert_from(bytes, 'UTF8')::jsonb;
	RETURN true;
EXCEPTION WHEN OTHERS THEN
	RETURN false;
END $$;
});
for my $body (
	'{}', '[]', '0', '-0', '1e5', '1E+5', '-1.5e-3', '"x"', 'true', 'null', " \t\n[1]\r\n",
	'{"a":[1,{"b":null}]}', '"\u00e9"', '"\ud83d\ude00"', '"\/"', "\"\xc3\xa9\"",
	"\"\xf0\x9f\x98\x80\"", '01', '1.', '.5', '+1', '-', '1e', 'NaN', 'Infinity', 'tru', 'nul',
	'[1,]', '{"a":1,}', '{a:1}', "{'a':1}", '{"a" 1}', '[1 2]', '"\x"', '"\u12"', '"\ud800"',
	'"\udc00"', '"\ud800\u0041"', '"\u0000"', "\"a\tb\"", "\"\x01\"", "\"\xc0\xaf\"",
	"\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\xef\xbb\xbf{}", '{"a":1}}', '[[[]]]', '""',
	# numeric's limits
	'1e131071', '9.9e131071', '1e131072', '10e131071', '0.001e131074', '0.001e131075',
	'1e-16383', '1e-16384', '1.5e-16382', '1.5e-16383', '0e999999', '0e-999999', '0.0e-16383',
	'1e1073741822', '0e1073741822', '0e1073741823', '-0e-16383', '1' . ('0' x 200))
{
	my $hex = unpack('H*', $body);
	my $jsonb = $node->safe_psql('postgres', "SELECT public.is_jsonb('\\x$hex')") eq 't';
	$r = call('POST', '/api/v1/charges', body => $body);
	# Passed on is exactly 401 (a 500 is neither verdict and fails).
	my $verdict =
	    $r->{status} == 401 ? 'passed on'
	  : ($r->{status} == 400
		  && ($r->{json}{message} // '') =~ /^Request body is not valid JSON: .+$/)
	  ? 'rejected'
	  : "answered $r->{status}";
	is($verdict, $jsonb ? 'passed on' : 'rejected',
		sprintf('JSON check agrees with jsonb on %s', JSON::PP->new->ascii->encode([$body])));
}

error_is(call('POST', '/api/v1/orders', as => $alice, body => '"' . ('x' x 70000) . '"'),
	413, 'payload_too_large', 'Request body exceeds 65536 bytes', 'oversized body');
error_is(call('GET', '/api/v1/orders', as => $alice, headers => { 'X-Padding' => 'p' x 9000 }),
	431, 'request_header_fields_too_large', 'Request headers exceed 8192 bytes',
	'oversized headers');

$r = raw_request("GET /api/v1/orders/\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
is($r->{status}, 400, 'a request target that is not UTF-8: 400');
like($r->{content}, qr/"error":"bad_request"/, 'a request target that is not UTF-8: JSON body');
$r = raw_request("GET /api/v1/orders HTTP/1.1\r\nHost: x\r\nX-API-Key: \xff\xfe\r\nConnection: close\r\n\r\n");
is($r->{status}, 400, 'a header that is not UTF-8: 400');
like($r->{content}, qr/X-API-Key is not valid UTF-8/, 'a header that is not UTF-8: named');
$r = raw_request("POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
is($r->{status}, 413, 'a huge Content-Length is refused before the body is sent');
$r = raw_request("POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	  . join('', map { sprintf("%x\r\n%s\r\n", 10000, 'y' x 10000) } 1 .. 7) . "0\r\n\r\n");
is($r->{status}, 413, 'a chunked body past the limit: 413');

# ---- rate limits: a burst ------------------------------------------------------

$node->safe_psql('postgres', 'ALTER SYSTEM SET orders.rate_limit_burst = 20; SELECT pg_reload_conf()');
my $dave = new_client('gateway dave', 0);
my ($limited, $allowed) = (undef, 0);
for (1 .. 30)
{
	$r = call('GET', '/api/v1/orders', as => $dave);
	if ($r->{status} == 429) { $limited = $r; last; }
	$allowed++;
}
ok(defined $limited, 'a burst of 30 requests gets a 429');
# 20 in 10 seconds: at least 20 pass (a slow machine may refill a token
# or two meanwhile); the answers are 404s, dave has no order.
cmp_ok($allowed, '>=', 20, 'the first 20 requests pass');
error_is($limited, 429, 'rate_limit_exceeded', 'Too many requests. Please try again later.', 'burst');
like($limited->{headers}{'retry-after'} // '', qr/^[1-9]\d*$/, '429: Retry-After in seconds');
is($limited->{headers}{'ratelimit-limit'}, 20, '429: RateLimit-Limit');
is($limited->{headers}{'ratelimit-remaining'}, 0, '429: RateLimit-Remaining');
like($limited->{headers}{'ratelimit-reset'} // '', qr/^\d+$/, '429: RateLimit-Reset');
is(call('GET', '/api/v1/orders', as => $alice)->{status}, 200, "another client is not limited by dave's burst");
$node->safe_psql('postgres', 'ALTER SYSTEM RESET orders.rate_limit_burst; SELECT pg_reload_conf()');

# ---- the database goes away and comes back ------------------------------------

$node->stop('fast');
$r = call('GET', "/api/v1/orders/$order_id", as => $alice);
error_is($r, 503, 'service_unavailable', qr/temporarily unavailable/, 'database down');
is($r->{headers}{'retry-after'}, 1, '503: Retry-After');
$r = call('GET', '/api/v1/health');
error_is($r, 503, 'service_unavailable', qr/temporarily unavailable/, '/api/v1/health while the database is down');
is($r->{headers}{'retry-after'}, 1, '/api/v1/health: 503 with Retry-After');
is(call('GET', '/api/v1/openapi.json')->{status}, 200, 'openapi.json needs no database');
$node->start;
ok(wait_for_health(), '/api/v1/health recovers');
$r = call('GET', "/api/v1/orders/$order_id", as => $alice);
is($r->{status}, 200, 'requests succeed again after the restart');

# A crash while the pool's connections are idle: the first request must not fail.
$node->stop('immediate');
$node->start;
is(call('GET', "/api/v1/orders/$order_id", as => $alice)->{status}, 200,
	'first request after a crash and restart: 200');

# ---- the log ------------------------------------------------------------------

my $log = slurp_file($gateway_log);
like($log, qr{GET /api/v1/orders/\d+ 200 [\d.]+ms}, 'the log has a line per request');
like($log, qr{POST /api/v1/orders 413 }, 'the log has the refused requests');
unlike($log, qr/\Q$alice->{secret}\E/, 'no API secret in the log');
unlike($log, qr/\Q$alice->{key}\E/, 'no API key in the log');
unlike($log, qr/\Q$token\E/, 'no access token in the log');
unlike($log, qr/\Q$alice_card\E|GWCARD|GWLATE/, 'no voucher code in the log');
unlike($log, qr/limit=3/, 'no query string in the log');
unlike($log, qr/WARNING|NOTICE|ERROR:/, 'no server message in the log');

# ---- SIGTERM: finish the request in flight, refuse new ones, exit 0 ------------

# Hold a lock the details read needs, so a request stays in flight.
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE orders.orders IN ACCESS EXCLUSIVE MODE');
my $inflight_out = '';
my $inflight = IPC::Run::start(
	[
		'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}',
		'-H', "X-API-Key: $alice->{key}", '-H', "X-API-Secret: $alice->{secret}",
		"$base/api/v1/orders/$order_id"
	],
	'>', \$inflight_out);
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE usename = 'gateway' AND wait_event_type = 'Lock'"
) or die 'the request never reached the lock';
$gateway->signal('TERM');
# The listening socket closes at once: new connections are refused.
my $refused = 0;
for (1 .. 50)
{
	if (!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp'))
	{
		$refused = 1;
		last;
	}
	select(undef, undef, undef, 0.1);
}
ok($refused, 'after SIGTERM new connections are refused');
$locker->query_safe('COMMIT');
$locker->quit;
$inflight->finish;
is($inflight_out, '200', 'the request in flight at SIGTERM completes with 200');
$gateway->finish;
is($gateway->result(0), 0, 'the gateway exits 0');
like(slurp_file($gateway_log), qr/received SIGTERM.*stopped/s, 'the log says it drained and stopped');

$node->stop;
done_testing();
