# The reveal audit is durable before any code leaves the database
# (docs/vault.md "Reveal"): several sessions reveal vouchers in READ ONLY
# transactions (as PostgREST runs GET); as soon as every reveal is
# acknowledged the server is stopped without a checkpoint (immediate
# stop) and, after recovery, every reveal has its audit row.  The cluster
# commits asynchronously by default (synchronous_commit = off, a long
# wal_writer_delay): only the audit worker's own durable commit saves them.
# The same for INSTANT creates, whose responses reveal their vouchers (the
# create hands the audit to the worker before it writes the order).
#
# Then the reveal fails closed: with no worker slot free, and with orders
# not preloaded (no shared memory, no worker), it raises OR303, reveals
# nothing and writes nothing.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $sessions = 4;
my $reveals = 25;    # per session

my $dir = PostgreSQL::Test::Utils::tempdir;
my $keys = "$dir/keys";
open my $fh, '<:raw', '/dev/urandom' or die;
read($fh, my $key, 32) == 32 or die;
close $fh;
PostgreSQL::Test::Utils::append_to_file($keys, '1:' . unpack('H*', $key) . "\n");
chmod 0600, $keys or die;

my $node = PostgreSQL::Test::Cluster->new('reveal_audit');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'orders'
orders.vault_key_file = '$keys'
synchronous_commit = off
wal_writer_delay = 10s
});
$node->start;

# One client, one delivered order of one voucher per session.
$node->safe_psql('postgres', qq{
	CREATE EXTENSION orders CASCADE;
	INSERT INTO orders.clients (name) VALUES ('durable reveal client');
	INSERT INTO orders.products (id, name, currency, delivery_type)
	VALUES (1, 'Durable Reveal Card', 'USD', 'CODE_WITH_PIN');
	SELECT orders.load_inventory(1, 10, now() + interval '1 year',
		'DURABLE-' || g || '-' || md5(random()::text), '1234')
	FROM generate_series(1, $sessions) g;
	CREATE FUNCTION pg_temp.deliver(p_client bigint, p_po text, p_unit bigint) RETURNS bigint
	LANGUAGE plpgsql AS \$\$
	DECLARE
		o bigint;
		i bigint;
	BEGIN
		INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity)
		VALUES (p_client, p_po, 1, 10, 1) RETURNING id INTO o;
		UPDATE orders.orders SET status = 'PENDING' WHERE id = o;
		UPDATE orders.inventory_units SET status = 'ALLOCATED' WHERE id = p_unit;
		INSERT INTO orders.order_items (client_id, order_id, unit_id)
		VALUES (p_client, o, p_unit) RETURNING id INTO i;
		UPDATE orders.order_items SET status = 'DELIVERED' WHERE id = i;
		UPDATE orders.inventory_units SET status = 'DELIVERED' WHERE id = p_unit;
		UPDATE orders.orders SET status = 'DELIVERED', sub_status = 'INVENTORY_FULFILLED' WHERE id = o;
		RETURN o;
	END \$\$;
	SELECT pg_temp.deliver(c.id, 'durable-' || u.id, u.id)
	FROM orders.clients c, orders.inventory_units u;
});
my $client = $node->safe_psql('postgres', 'SELECT id FROM orders.clients');
my @orders = split /\n/, $node->safe_psql('postgres', 'SELECT id FROM orders.orders ORDER BY id');
is(scalar @orders, $sessions, "$sessions delivered orders");
is($node->safe_psql('postgres', 'SELECT count(*) FROM orders.voucher_reveals'), '0',
	'no audit row yet');

# Each session reveals its order $reveals times, each in its own READ ONLY
# transaction; psql prints the number of vouchers once a reveal returned.
my (@runs, @out, @err);
for my $s (0 .. $sessions - 1)
{
	$out[$s] = '';
	$err[$s] = '';
	my $script = "BEGIN READ ONLY;\n"
	  . "SELECT jsonb_array_length(orders.reveal_vouchers($client, $orders[$s]));\n"
	  . "COMMIT;\n";
	$runs[$s] = IPC::Run::start(
		[
			'psql', '-X', '-qAt', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr('postgres'),
			map { ('-c', $script) } 1 .. $reveals
		],
		'<', \undef, '>', \$out[$s], '2>', \$err[$s]);
}
IPC::Run::finish($_) for @runs;
# Acknowledged: every reveal of every session returned its voucher.  Stop
# at once, without a checkpoint.
$node->stop('immediate');

for my $s (0 .. $sessions - 1)
{
	is($out[$s], join('', map { "1\n" } 1 .. $reveals),
		"session $s: $reveals reveals acknowledged in READ ONLY transactions");
	is($err[$s], '', "session $s: no error");
}

$node->start;
is( $node->safe_psql('postgres', qq{
		SELECT string_agg(n::text, ',' ORDER BY o.id)
		FROM orders.orders o,
			 LATERAL (SELECT count(*) AS n FROM orders.voucher_reveals r WHERE r.order_id = o.id) c}),
	join(',', map { $reveals } 1 .. $sessions),
	'after an immediate stop, every acknowledged reveal has its audit row');
is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM orders.voucher_reveals r
		JOIN orders.order_items i ON i.id = r.order_item_id
		WHERE r.client_id = $client AND r.order_id = i.order_id AND r.unit_id = i.unit_id
		  AND r.revealed_by = current_user}),
	$sessions * $reveals, 'each row names the client, order, item, unit and role');

# The create path: an INSTANT create hands its response's audit to the
# worker before it writes the order and waits for it before decrypting
# (docs/vault.md).  Sessions place INSTANT orders (each committed
# asynchronously, as the cluster's default says); once every response with
# its voucher is acknowledged, an immediate stop.  After recovery the
# orders themselves may be lost (their commits were not flushed), but every
# acknowledged response's voucher has its audit row.
$node->safe_psql('postgres', qq{
	INSERT INTO orders.products (id, name, currency, delivery_type, denominations)
	VALUES (2, 'Durable Create Card', 'USD', 'CODE_WITH_PIN', '{10}');
	SELECT orders.load_inventory(2, 10, now() + interval '1 year',
		'CREATE-' || g || '-' || md5(random()::text), '1234')
	FROM generate_series(1, $sessions * $reveals) g;
	SELECT orders.fund_wallet($client, 'USD', 10 * $sessions * $reveals);
	CHECKPOINT;
});
my (@creates, @created, @create_err);
for my $s (0 .. $sessions - 1)
{
	$created[$s] = '';
	$create_err[$s] = '';
	$creates[$s] = IPC::Run::start(
		[
			'psql', '-X', '-qAt', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr('postgres'),
			map {
				('-c',
					"SELECT (r #>> '{data,placeOrder,data,orderId}') || ':' ||"
					  . " jsonb_array_length(r #> '{data,placeOrder,data,vouchers}')"
					  . " FROM (SELECT (orders.create_order($client, 2, 1, 10, NULL, NULL,"
					  . " 'durable-create-$s-$_')).response AS r) c")
			} 1 .. $reveals
		],
		'<', \undef, '>', \$created[$s], '2>', \$create_err[$s]);
}
IPC::Run::finish($_) for @creates;
$node->stop('immediate');

my @acknowledged;
for my $s (0 .. $sessions - 1)
{
	my @lines = split /\n/, $created[$s];
	is(scalar(grep { /^\d+:1$/ } @lines), $reveals,
		"session $s: $reveals INSTANT creates acknowledged, each with its voucher");
	is($create_err[$s], '', "session $s: no error from the creates");
	push @acknowledged, map { (split /:/)[0] } @lines;
}
$node->start;
is( $node->safe_psql('postgres', qq{
		SELECT count(DISTINCT r.order_id) FROM orders.voucher_reveals r
		WHERE r.order_id IN (@{[ join(', ', @acknowledged) ]}) AND r.client_id = $client}),
	scalar(@acknowledged),
	'after an immediate stop, every acknowledged INSTANT create has the audit row of its voucher');

# Fail closed: how a reveal ends when its audit cannot be committed.
sub audit_rows { return $node->safe_psql('postgres', 'SELECT count(*) FROM orders.voucher_reveals'); }

sub reveal_refused
{
	my ($what, $detail) = @_;
	my $before = audit_rows();
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"BEGIN READ ONLY; SELECT orders.reveal_vouchers($client, $orders[0]); COMMIT;");
	isnt($ret, 0, "$what: the reveal fails");
	like($stderr, qr/ERROR:  voucher reveal refused: its audit could not be recorded/,
		"$what: says the audit could not be recorded");
	like($stderr, $detail, "$what: says why");
	like($stderr, qr/HINT:  .*orders must be in shared_preload_libraries/,
		"$what: hints at shared_preload_libraries and the worker");
	unlike($stdout, qr/DURABLE|card_number/, "$what: nothing revealed");
	is(audit_rows(), $before, "$what: no audit row");
}

# No background worker slot at all.
$node->append_conf('postgresql.conf', 'max_worker_processes = 0');
$node->restart;
reveal_refused('no background worker slot', qr/No background worker slot is free/);

# Not preloaded: no shared memory, no worker.
$node->append_conf('postgresql.conf', qq{
max_worker_processes = 8
shared_preload_libraries = ''
});
$node->restart;
reveal_refused('orders not preloaded', qr/orders is not in shared_preload_libraries/);

$node->stop;
done_testing();
