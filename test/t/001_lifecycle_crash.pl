# The lifecycle survives a crash: committed moves and their history are
# there after an immediate stop, and the rules still hold afterwards.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lifecycle');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'orders'");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION orders CASCADE;
	INSERT INTO orders.clients (name) VALUES ('tap');
	INSERT INTO orders.products (id, name, currency) VALUES (1, 'Card', 'EUR');
	INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity)
	SELECT 1, 'po-' || i, 1, 5, 1 FROM generate_series(1, 50) i;
	UPDATE orders.orders SET status = 'pending';
	UPDATE orders.orders SET status = 'delivered', sub_status = 'inventory_fulfilled' WHERE id % 2 = 0;
});

# Crash with a transaction in flight that must not survive.
my $bg = $node->background_psql('postgres');
$bg->query_safe(q{BEGIN; UPDATE orders.orders SET status = 'cancelled', sub_status = 'refunded' WHERE id % 2 = 1});
$node->stop('immediate');
$bg->{run}->finish;
$node->start;

is($node->safe_psql('postgres',
	q{SELECT status || ':' || count(*) FROM orders.orders GROUP BY status ORDER BY status}),
	"PENDING:25\nDELIVERED:25", 'committed moves survived, the in-flight one did not');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM orders.status_history WHERE entity = 'order'}),
	50 + 50 + 25, 'history has creation, PENDING and DELIVERED rows, nothing of the lost transaction');

# The illegal move names a valid status and sub-status pair, so that only
# the transition rule can refuse it; a legal move beside it goes through.
my ($rc, $out, $err) = $node->psql('postgres',
	q{UPDATE orders.orders SET status = 'pending', sub_status = 'initial' WHERE id = 2});
isnt($rc, 0, 'an illegal move is still refused after the restart');
like($err, qr/order 2: DELIVERED -> PENDING is not a legal transition/, 'with the lifecycle message');
is($node->safe_psql('postgres', q{
	UPDATE orders.orders SET status = 'delivered', sub_status = 'inventory_fulfilled' WHERE id = 1;
	SELECT string_agg(id || ':' || status, ' ' ORDER BY id) FROM orders.orders WHERE id IN (1, 2)}),
	'1:DELIVERED 2:DELIVERED', 'a legal move is still allowed, the refused one changed nothing');

$node->stop;
done_testing();
