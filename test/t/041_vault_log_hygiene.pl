# Log hygiene (docs/vault.md#logs): with a server configured to log every
# statement (by log_statement and by duration, log_min_duration_statement
# = 0) and every failing statement with its parameters, failing loads and
# reveals carrying literal codes leave no code in the server log, nor do
# the quiet role's successful loads.
#
# Two lines of defence are tested apart:
#   - a login role under orders.quiet_logging() (role settings): nothing of
#     its statements, parameters or errors reaches the log, however it fails;
#   - any role: load_inventory's own SET log_min_error_statement = panic keeps
#     the statement of a call that fails inside it out of the log.
# Canaries that are not codes prove each time that the log would have shown
# the text, so an absence means protection, not a silent logger.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $keys = "$dir/keys";
open my $fh, '<:raw', '/dev/urandom' or die;
read($fh, my $key, 32) == 32 or die;
close $fh;
PostgreSQL::Test::Utils::append_to_file($keys, '1:' . unpack('H*', $key) . "\n");
chmod 0600, $keys or die;

my $node = PostgreSQL::Test::Cluster->new('vault_logs');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'orders'
orders.vault_key_file = '$keys'
log_statement = 'all'
log_min_duration_statement = 0
log_min_error_statement = error
log_parameter_max_length = -1
log_parameter_max_length_on_error = -1
log_error_verbosity = verbose
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION orders CASCADE;
	INSERT INTO orders.products (id, name, currency) VALUES (1, 'Log Card', 'USD');
	CREATE ROLE regress_quiet_loader LOGIN IN ROLE orders_vendor;
	SELECT orders.quiet_logging('regress_quiet_loader');
	CREATE ROLE regress_plain_loader LOGIN IN ROLE orders_vendor;
});

my $run = 'R' . int(rand(1e9));
my @codes;
sub code { my $c = "LEAKCHECK-$_[0]-$run"; push @codes, $c; return $c; }

sub as_role
{
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-U', $role ]);
	return ($ret, $err);
}

sub fails_as
{
	my ($role, $what, $sql, $expected) = @_;
	my ($ret, $err) = as_role($role, $sql);
	isnt($ret, 0, "$role: $what fails");
	like($err, $expected, "$role: $what says why");
}

my $entry = sub {
	my ($code, %extra) = @_;
	my %u = (product_id => 1, denomination => 10, expires_at => '2032-01-01T00:00:00Z',
		card_number => $code, pin_code => '9876', %extra);
	return '{' . join(', ',
		map { qq("$_": ) . ($u{$_} =~ /^\d+$/ && /^(product_id|denomination)$/ ? $u{$_} : qq("$u{$_}")) }
		  sort keys %u) . '}';
};

# 1. The quiet role, with the server logging every statement.
my $loader = 'regress_quiet_loader';
my ($ret, $err) = as_role($loader,
	"SELECT orders.load_inventory(1, 10, now() + interval '1 year', '" . code('single-ok') . "', '1111')");
is($ret, 0, 'quiet role: a successful single load');
fails_as($loader, 'a bulk load with a duplicate',
	"SELECT * FROM orders.load_inventory('[" . $entry->(code('bulk-dup')) . ', ' . $entry->($codes[-1]) . "]'::jsonb)",
	qr/inventory batch entry 2: its code is the code of entry 1/);
fails_as($loader, 'a bulk load with a bad denomination',
	"SELECT * FROM orders.load_inventory('[" . $entry->(code('bulk-denomination'), denomination => 'ten') . "]'::jsonb)",
	qr/inventory batch entry 1: denomination is not a valid number/);
fails_as($loader, 'a bulk load of malformed JSON',
	"SELECT * FROM orders.load_inventory('[{\"card_number\": \"" . code('bulk-json') . "\",]'::jsonb)",
	qr/invalid input syntax for type json/);
fails_as($loader, 'a typed bulk load with an unknown product',
	"SELECT * FROM orders.load_inventory(ARRAY[ROW(77, 10, now(), '" . code('set-product') . "', NULL, NULL, NULL)]::orders.voucher_input[])",
	qr/inventory batch entry 1: product 77 does not exist/);
fails_as($loader, 'a single load of a duplicate',
	"SELECT orders.load_inventory(1, 10, now() + interval '1 year', '$codes[0]', '" . code('single-pin') . "')",
	qr/its code is already loaded for this product/);
fails_as($loader, 'a single load with the code where a number goes',
	"SELECT orders.load_inventory(1, '" . code('single-misplaced') . "', now(), 'x')",
	qr/invalid input syntax for type numeric/);

# Bind parameters (extended protocol), failing inside the function.
my $script = "$dir/load.sql";
PostgreSQL::Test::Utils::append_to_file($script,
	"SELECT orders.load_inventory(1, 10, now() + interval '1 year', :code, :pin);\n");
my $bound = code('bound');
my ($stdout, $stderr) = run_command([
	'pgbench', '-n', '-t', '1', '-M', 'extended', '-f', $script,
	'-D', "code=$codes[0]", '-D', "pin=$bound",
	'-h', $node->host, '-p', $node->port, '-U', $loader, 'postgres' ]);
like($stderr, qr/its code is already loaded for this product/,
	'quiet role: a failing load through bind parameters');

# A failing reveal: a delivered unit whose PIN was tampered with.
my $reveal_code = code('reveal');
my $reveal_pin = code('reveal-pin');
$node->safe_psql('postgres', qq{
	SET log_statement = 'none';
	SET log_min_duration_statement = -1;
	INSERT INTO orders.clients (name) VALUES ('log client');
	SELECT orders.load_inventory(1, 10, now() + interval '1 year', '$reveal_code', '$reveal_pin') AS unit \\gset
	INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity)
	VALUES (1, 'log-1', 1, 10, 1);
	UPDATE orders.orders SET status = 'PENDING';
	UPDATE orders.inventory_units SET status = 'ALLOCATED' WHERE id = :unit;
	INSERT INTO orders.order_items (client_id, order_id, unit_id) VALUES (1, 1, :unit);
	UPDATE orders.order_items SET status = 'DELIVERED';
	UPDATE orders.inventory_units SET status = 'DELIVERED' WHERE id = :unit;
	UPDATE orders.orders SET status = 'DELIVERED', sub_status = 'INVENTORY_FULFILLED';
	UPDATE orders.inventory_units SET pin_code_enc = set_byte(pin_code_enc, 20, get_byte(pin_code_enc, 20) # 1)
	WHERE id = :unit;
});
($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT orders.reveal_vouchers(1, 1)');
like($stderr, qr/the pin_code of row \d+ does not authenticate/, 'a failing reveal');

# Control: the superuser's statements are logged in full.
$node->safe_psql('postgres', "SELECT 'CANARY-ALL-$run'");

# 2. A role without those settings, the server no longer logging every
# statement but still every failing one: the function's own setting keeps
# the statement of a load that fails inside it out of the log.
$node->append_conf('postgresql.conf', "log_statement = 'none'");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('log_statement') = 'none'")
  or die 'reload did not happen';
my $plain = 'regress_plain_loader';
# Duration-based logging is still on: the quiet role's successful load
# stays out of it (its role settings); the plain role's statement is
# logged with its duration and text (the control).
($ret, $err) = as_role($loader,
	"SELECT orders.load_inventory(1, 10, now() + interval '1 year', '" . code('duration-ok') . "', '2222')");
is($ret, 0, 'quiet role: a successful load while statements are logged by duration');
($ret, $err) = as_role($plain, "SELECT 'CANARY-DURATION-$run'");
is($ret, 0, 'plain role: a statement logged by duration');
fails_as($plain, 'a bulk load with a duplicate',
	"SELECT * FROM orders.load_inventory('[" . $entry->(code('plain-dup')) . ', ' . $entry->($codes[-1]) . "]'::jsonb)",
	qr/inventory batch entry 2: its code is the code of entry 1/);
fails_as($plain, 'a single load of an unknown product',
	"SELECT orders.load_inventory(78, 10, now(), '" . code('plain-product') . "')",
	qr/inventory batch entry 1: product 78 does not exist/);
# Controls: the same role's errors elsewhere are logged with their statement
# and quote their input.
fails_as($plain, 'a statement outside the vault',
	"SELECT 1 / 0 AS \"CANARY-STATEMENT-$run\"", qr/division by zero/);
fails_as($plain, 'a cast outside the vault',
	"SELECT 'CANARY-ERRMSG-$run'::integer", qr/invalid input syntax for type integer/);

my $log = slurp_file($node->logfile);
like($log, qr/CANARY-ALL-\Q$run\E/, 'control: statements were logged');
like($log, qr/duration: [0-9.]+ ms  statement: SELECT 'CANARY-DURATION-\Q$run\E'/,
	'control: statements were logged by duration');
like($log, qr/STATEMENT:\s+SELECT 1 \/ 0 AS "CANARY-STATEMENT-\Q$run\E"/,
	'control: a failing statement is logged with its text');
like($log, qr/invalid input syntax for type integer: "CANARY-ERRMSG-\Q$run\E"/,
	'control: a built-in error quotes its input in the log');
like($log, qr/the pin_code of row \d+ does not authenticate/, 'the failing reveal was logged');
foreach my $code (@codes)
{
	unlike($log, qr/\Q$code\E/, "no $code in the server log");
}

$node->stop;
done_testing();
