# Crash safety of order placement: four clients place orders in parallel
# (psql sessions, autocommit), two of them racing for the same inventory;
# the server is stopped with "immediate" (every server process killed, no
# checkpoint: a crash of the server, which recovery must repair from the
# WAL) in the middle of the load and restarted.  Not a power cut: the
# operating system's cache survives, and the test cluster runs with
# fsync = off, so durability against losing the machine is not tested.  Then every order a client saw
# committed exists with its debit, no unit is linked twice, the ledger
# balances (verify_ledger() is empty), each client's orders have distinct
# numbers, and the list counts (rolled up plus pending deltas) match.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $clients = 4;
my $per_client = 3000;    # far more than can finish before the crash

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'orders'");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION orders CASCADE;
	INSERT INTO orders.clients (name) SELECT 'crash client ' || c FROM generate_series(1, 4) c;
	INSERT INTO orders.products (id, name, currency, denominations, order_quantity_limit)
	VALUES (1, 'Crash Card', 'USD', '{10,25}', 3), (2, 'Crash Euro Card', 'EUR', '{5}', 3);
	INSERT INTO orders.fx_rates (base, quote, rate) VALUES ('EUR', 'USD', 1.1);
	SELECT orders.fund_wallet(id, 'USD', 1000000) FROM orders.clients;
	SELECT orders.open_wallet(id, 'USD', true) FROM orders.clients;
	-- 400 units of 10 for everybody, racing; none of 25 (DELAYED).
	INSERT INTO orders.inventory_units (product_id, denomination, expires_at)
	SELECT 1, 10, now() + (i % 50) * interval '1 day' FROM generate_series(1, 400) i;
});

# One script per client: each statement places one order and, once it has
# committed (psql prints a result only after the command completed, which
# for an autocommit statement is after the commit), prints its poNumber
# and order id.
my @runs;
for my $c (1 .. $clients)
{
	my $script = '';
	for my $i (1 .. $per_client)
	{
		my ($product, $denomination) =
			$i % 4 == 0 ? (2, 5) : $i % 4 == 1 ? (1, 25) : (1, 10);
		my $quantity = 1 + $i % 3;
		$script .= "SELECT 'ok ' || $c || ' c$c-$i ' || (r.response #>> '{data,placeOrder,data,orderId}') "
		  . "FROM orders.create_order($c, p_product_id => $product, p_quantity => $quantity, "
		  . "p_denomination => $denomination, p_email => NULL, p_tag => NULL, p_po_number => 'c$c-$i') r;\n";
	}
	# Files, not pipes: nothing has to be pumped while the load runs.
	my $dir = PostgreSQL::Test::Utils::tempdir;
	PostgreSQL::Test::Utils::append_to_file("$dir/orders.sql", $script);
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-A', '-t', '-q', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
		  '-f', "$dir/orders.sql" ],
		'>', "$dir/out", '2>', "$dir/err");
	push @runs, { handle => $h, out => "$dir/out" };
}

# Mid-load: once a few hundred orders are in, crash the server.
$node->poll_query_until('postgres', 'SELECT count(*) >= 300 FROM orders.orders')
  or die 'the load did not get going';
$node->stop('immediate');

my %seen;    # poNumber => order id, for every order a client saw committed
for my $run (@runs)
{
	$run->{handle}->finish;    # psql exits once its connection is gone
	for my $line (split /\n/, PostgreSQL::Test::Utils::slurp_file($run->{out}))
	{
		$seen{$2} = $3 if $line =~ /^ok (\d+) (c\d+-\d+) (\d+)$/;
	}
}
my $acknowledged = scalar keys %seen;
note "orders acknowledged before the crash: $acknowledged";
cmp_ok($acknowledged, '>=', 300, 'the clients saw orders committed before the crash');
cmp_ok($acknowledged, '<', $clients * $per_client, 'the crash came in the middle of the load');

$node->start;

# Every acknowledged order survived, as the same order.
my $values = join(',', map { "('$_', $seen{$_})" } sort keys %seen);
my $lost = $node->safe_psql('postgres', qq{
	SELECT count(*) FROM (VALUES $values) seen(po, id)
	WHERE NOT EXISTS (SELECT 1 FROM orders.orders o
					  JOIN orders.ledger_entries l ON l.order_id = o.id AND l.kind = 'DEBIT'
					  WHERE o.po_number = seen.po AND o.id = seen.id)});
is($lost, '0', 'every order a client saw committed exists, with its debit');

my $stored = $node->safe_psql('postgres', 'SELECT count(*) FROM orders.orders');
cmp_ok($stored, '>=', $acknowledged, 'no order is missing (some may have committed unacknowledged)');
note "orders stored after the restart: $stored";

is( $node->safe_psql('postgres', q{
		SELECT count(*) - count(DISTINCT unit_id) FROM orders.order_items WHERE unit_id IS NOT NULL}),
	'0', 'no unit is linked to two items');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM orders.inventory_units u
		WHERE (u.status = 'DELIVERED') <> EXISTS (SELECT 1 FROM orders.order_items i WHERE i.unit_id = u.id)}),
	'0', 'exactly the DELIVERED units are linked');
# An order that is not whole is shown (status, items), to tell a torn
# write from a move by the fulfilment worker after the restart.
is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('order %s %s/%s quantity %s items %s', o.id, o.status, o.sub_status, o.quantity,
								 (SELECT string_agg(i.status || coalesce(':' || i.unit_id, ''), ',')
								  FROM orders.order_items i WHERE i.order_id = o.id)), '; ')
		FROM orders.orders o
		WHERE o.status NOT IN ('DELIVERED', 'PENDING')
		   OR o.quantity <> (SELECT count(*) FROM orders.order_items i WHERE i.order_id = o.id)
		   OR (o.status = 'DELIVERED') <> (SELECT bool_and(i.status = 'DELIVERED' AND i.unit_id IS NOT NULL)
										   FROM orders.order_items i WHERE i.order_id = o.id)}),
	'', 'every order is whole: DELIVERED with a unit per item, or PENDING with none delivered');
my $delivered = $node->safe_psql('postgres', q{SELECT count(*) FROM orders.orders WHERE status = 'DELIVERED'});
note "orders delivered from inventory: $delivered";
cmp_ok($delivered, '>', 0, 'some orders were delivered from inventory');
is($node->safe_psql('postgres', 'SELECT count(*) FROM orders.verify_ledger()'),
	'0', 'verify_ledger() is empty: every balance is the sum of its ledger');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM orders.orders o
		WHERE NOT EXISTS (SELECT 1 FROM orders.ledger_entries l WHERE l.order_id = o.id AND l.kind = 'DEBIT')}),
	'0', 'no order without its debit');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM (SELECT client_id FROM orders.orders GROUP BY client_id
							  HAVING count(DISTINCT client_seq) <> count(*)) dup}),
	'0', "each client's orders have distinct numbers");
# The counts as a reader sums them: rolled up plus pending deltas; then
# again after a roll-up, from the rolled-up counters alone.
foreach my $when ('before the roll-up', 'after the roll-up')
{
	$node->safe_psql('postgres', 'SELECT orders.roll_up_order_counts()')
	  if $when eq 'after the roll-up';
	is( $node->safe_psql('postgres', q{
			SELECT count(*) FROM (
				SELECT client_id, product_id, status, sum(n) AS n
				FROM (SELECT client_id, product_id, status, n FROM orders.order_counts
					  UNION ALL
					  SELECT client_id, product_id, status, n FROM orders.order_count_deltas) x
				GROUP BY 1, 2, 3) c
			WHERE c.n <> (SELECT count(*) FROM orders.orders o
						  WHERE o.client_id = c.client_id AND o.product_id = c.product_id AND o.status = c.status)}),
		'0', "the list totals match the orders ($when)");
	is( $node->safe_psql('postgres', q{
			SELECT count(*) FROM (
				SELECT client_id, product_id, status, block, sum(n) AS n
				FROM (SELECT client_id, product_id, status, block, n FROM orders.order_count_blocks
					  UNION ALL
					  SELECT client_id, product_id, status, block, n FROM orders.order_count_deltas) x
				GROUP BY 1, 2, 3, 4) c
			WHERE c.n <> (SELECT count(*) FROM orders.orders o
						  WHERE o.client_id = c.client_id AND o.product_id = c.product_id AND o.status = c.status
							AND o.client_seq / orders.order_block_size() = c.block)}),
		'0', "the list block counters match the orders ($when)");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM orders.order_count_deltas'),
	'0', 'the roll-up leaves no delta behind');

# And the engine takes orders again.
is( $node->safe_psql('postgres', q{
		SELECT r.replayed FROM orders.create_order(1, p_product_id => 1, p_quantity => 1,
			p_denomination => 25, p_email => NULL, p_tag => NULL, p_po_number => 'after-crash') r}),
	'f', 'orders are placed after the restart');

$node->stop;
done_testing();
