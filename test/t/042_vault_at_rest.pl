# Encryption at rest: after a CHECKPOINT, the inventory table's file, the
# WAL and the whole data directory hold no plaintext of a loaded voucher, and
# no key.  A control value stored in plaintext is found in its table's file
# and in the WAL by the same search, so an absence is meaningful.
use strict;
use warnings;

use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $keys = "$dir/keys";
open my $fh, '<:raw', '/dev/urandom' or die;
read($fh, my $key, 32) == 32 or die;
close $fh;
my $key_hex = unpack('H*', $key);
PostgreSQL::Test::Utils::append_to_file($keys, "1:$key_hex\n");
chmod 0600, $keys or die;

my $node = PostgreSQL::Test::Cluster->new('vault_at_rest');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'orders'
orders.vault_key_file = '$keys'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION orders CASCADE;
	INSERT INTO orders.products (id, name, currency) VALUES (1, 'At Rest Card', 'USD');
	CREATE TABLE plaintext_control (value text);
});

my $run = int(rand(1e9));
my %plain = (
	card => "ATREST-CARD-$run-0123456789",
	pin => "ATREST-PIN-$run",
	url => "https://redeem.example.com/atrest/$run",
	reference => "ATREST-REF-$run");
my $control = "CONTROL-PLAINTEXT-$run";

$node->safe_psql('postgres', qq{
	SELECT orders.load_inventory(1, 25, now() + interval '1 year',
		'$plain{card}', '$plain{pin}', '$plain{url}', '$plain{reference}');
	INSERT INTO plaintext_control VALUES ('$control');
	CHECKPOINT;
});
is( $node->safe_psql('postgres', q{
		SELECT orders.vault_decrypt(card_number_enc, id, 'card_number') FROM orders.inventory_units}),
	$plain{card}, 'the unit is there and decrypts');

my $data = $node->data_dir;
sub file_of
{
	my ($relation) = @_;
	return "$data/" . $node->safe_psql('postgres', "SELECT pg_relation_filepath('$relation')");
}

# Read every file of the data directory once.
my %content;
find(
	{
		wanted => sub { $content{$File::Find::name} = slurp_file($_) if -f $_ },
		no_chdir => 1
	},
	$data);
sub files_with
{
	my ($needle, @paths) = @_;
	return [ grep { index($content{$_}, $needle) >= 0 } @paths ];
}
my @wal = grep { m{/pg_wal/[0-9A-F]{24}$} } keys %content;
my $units_file = file_of('orders.inventory_units');
ok(@wal > 0, 'there are WAL segments to search');
ok(exists $content{$units_file} && length $content{$units_file},
	'the inventory table has a file on disk');

# The search works: the control value is in its table's file and in the WAL.
is_deeply(files_with($control, file_of('plaintext_control')), [ file_of('plaintext_control') ],
	'control: plaintext found in its table file');
ok(@{ files_with($control, @wal) } > 0, 'control: plaintext found in the WAL');

foreach my $what (sort keys %plain)
{
	is_deeply(files_with($plain{$what}, $units_file), [], "$what: not in the inventory table's file");
	is_deeply(files_with($plain{$what}, @wal), [], "$what: not in the WAL");
	is_deeply(files_with($plain{$what}, keys %content), [], "$what: in no file of the data directory");
}
is_deeply(files_with($key_hex, keys %content), [], 'the key (hex) is in no file of the data directory');
is_deeply(files_with($key, keys %content), [], 'the key (bytes) is in no file of the data directory');

$node->stop;
done_testing();
