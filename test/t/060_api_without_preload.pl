# The API without shared_preload_libraries: rate limits are off (the
# health check says so), every request still works, and the limit settings
# exist.  Then, preloaded, the same cluster enforces them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('api_without_preload');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION orders CASCADE');

is($node->safe_psql('postgres',
		"SELECT body::jsonb->>'rate_limits' FROM api.dispatch('GET', '/api/v1/health', NULL, '{}', NULL)"),
	'off', 'health reports rate limits off without preloading');

my ($key, $secret) = split /\|/, $node->safe_psql('postgres', q{
	SELECT key_id || '|' || secret
	FROM orders.admin_issue_api_key(orders.admin_create_client('no-preload client'))});
my $headers = qq{'{"X-API-Key": "$key", "X-API-Secret": "$secret"}'};

# 30 requests in a row: more than the default burst of 20, all served.
is($node->safe_psql('postgres', qq{
	SELECT string_agg(DISTINCT d.status::text, ',')
	FROM generate_series(1, 30) g,
		 api.dispatch('GET', '/api/v1/products' || left(g::text, 0), NULL, $headers, NULL) d}),
	'200', 'a burst over the limit is served when limits are off');
is($node->safe_psql('postgres', "LOAD 'orders'; SHOW orders.rate_limit_burst"), '20',
	'the settings exist once the module is loaded');
is($node->safe_psql('postgres', 'SELECT enabled FROM orders.rate_limit_status()'), 'f',
	'rate_limit_status says off');

$node->append_conf('postgresql.conf', "shared_preload_libraries = 'orders'");
$node->restart;
is($node->safe_psql('postgres',
		"SELECT body::jsonb->>'rate_limits' FROM api.dispatch('GET', '/api/v1/health', NULL, '{}', NULL)"),
	'on', 'health reports rate limits on once preloaded');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FILTER (WHERE d.status = 200) || ' served, ' ||
		   count(*) FILTER (WHERE d.status = 429) || ' refused'
	FROM generate_series(1, 22) g,
		 api.dispatch('GET', '/api/v1/products' || left(g::text, 0), NULL, $headers, NULL) d}),
	'20 served, 2 refused', 'preloaded, a burst of 22 gets 20 through and 2 refused');

$node->stop;
done_testing();
