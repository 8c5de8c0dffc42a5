# The vault's key ring (docs/vault.md): keys from a file named by
# orders.vault_key_file, with the library loaded on first use and preloaded.
# A missing, unreadable, short or malformed key file is a clear error that
# writes nothing and never shows key material; a wrong key does not decrypt;
# keys rotate across reloads, and once rotated, the old key can leave the file.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir;

sub random_key
{
	open my $fh, '<:raw', '/dev/urandom' or die "urandom: $!";
	read($fh, my $bytes, 32) == 32 or die "short read";
	close $fh;
	return unpack('H*', $bytes);
}

my ($k1, $k2, $k1_other) = (random_key(), random_key(), random_key());
my $file_no = 0;

# A key file with the given content and mode; returns its path.
sub key_file
{
	my ($content, $mode) = @_;
	my $path = "$dir/keys-" . ++$file_no;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $content;
	close $fh;
	chmod($mode // 0600, $path) or die "chmod $path: $!";
	return $path;
}

my $node = PostgreSQL::Test::Cluster->new('vault_keyring');
$node->init;
# Not preloaded: the library is loaded on first use in each backend.
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION orders CASCADE');
$node->safe_psql('postgres',
	"INSERT INTO orders.products (id, name, currency) VALUES (1, 'Keyring Card', 'USD')");
$node->safe_psql('postgres',
	'CREATE ROLE regress_vault_reader LOGIN; GRANT orders_vendor TO regress_vault_reader');

# Point the setting at a file (or at nothing) and reload; wait until new
# sessions see it.
sub use_key_file
{
	my ($path) = @_;
	$node->append_conf('postgresql.conf', "orders.vault_key_file = '$path'");
	$node->reload;
	$node->poll_query_until('postgres',
		"SELECT coalesce(current_setting('orders.vault_key_file', true), '') = '$path'")
	  or die "the setting did not reach $path";
}

my $load_one = "SELECT orders.load_inventory(1, 10, now() + interval '1 year', 'KEYRING-CARD-X')";

# Every way the key can be unavailable: a clear error, for encryption and for
# loading, no key material in it, nothing written.
my @unavailable = (
	[ 'no setting', '', qr/no vault key file is configured/ ],
	[ 'missing file', "$dir/no-such-file",
		qr/could not open the vault key file: No such file or directory/ ],
	[ 'unreadable', key_file("1:$k1\n", 0000),
		qr/could not open the vault key file: Permission denied/ ],
	[ 'readable by others', key_file("1:$k1\n", 0644),
		qr/the vault key file has group or world access/ ],
	[ 'short key', key_file('1:' . substr($k1, 0, 60) . "\n"),
		qr/line 1 of the vault key file is invalid: the key is shorter than 256 bits/ ],
	[ 'long key', key_file("1:${k1}00\n"),
		qr/line 1 of the vault key file is invalid: the key is longer than 256 bits/ ],
	[ 'malformed line', key_file("# the vault's keys\n\n1:$k1\nnot a key line\n"),
		qr/line 4 of the vault key file is invalid: the line is not of the form <id>:<64 hex digits>/ ],
	[ 'non-hex key', key_file('1:' . ('g' x 64) . "\n"),
		qr/line 1 of the vault key file is invalid: the line is not of the form/ ],
	[ 'bad id', key_file("0:$k1\n"),
		qr/line 1 of the vault key file is invalid: the key id is not an integer between 1 and 2147483647/ ],
	[ 'duplicate id', key_file("1:$k1\n1:$k2\n"),
		qr/line 2 of the vault key file is invalid: the key id appears twice/ ],
	[ 'all-zero key', key_file('1:' . ('0' x 64) . "\n"),
		qr/line 1 of the vault key file is invalid: the key is all zeros/ ],
	[ 'no key at all', key_file("# no keys yet\n"),
		qr/the vault key file is invalid: the file holds no key/ ]);
foreach my $case (@unavailable)
{
	my ($what, $path, $expected) = @$case;
	use_key_file($path);
	foreach my $sql ("SELECT orders.vault_encrypt('x', 1, 'card_number')", $load_one)
	{
		my ($ret, $out, $err) = $node->psql('postgres', $sql);
		isnt($ret, 0, "$what: refused");
		like($err, $expected, "$what: says why");
		unlike($err, qr/\Q@{[substr($k1, 0, 16)]}\E|\Q@{[substr($k2, 0, 16)]}\E/i,
			"$what: no key material in the message");
		unlike($err, qr/\Q$dir\E/, "$what: not even the file's path");
	}
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM orders.inventory_units'),
	'0', 'nothing was written while no key was available');

# Key 1: 40 units load and decrypt.
use_key_file(key_file("1:$k1\n"));
my $units = join(',',
	map { qq({"product_id": 1, "denomination": 10, "expires_at": "2032-01-01T00:00:00Z", "card_number": "KEYRING-CARD-$_", "pin_code": "P$_"}) }
	  1 .. 40);
is($node->safe_psql('postgres', "SELECT count(*) FROM orders.load_inventory('[$units]'::jsonb)"),
	'40', 'key 1: 40 units loaded');
my $all_decrypt = q{
	SELECT count(*) FROM orders.inventory_units
	WHERE orders.vault_decrypt(card_number_enc, id, 'card_number') = 'KEYRING-CARD-' || (id - min_id + 1)
	  AND orders.vault_decrypt(pin_code_enc, id, 'pin_code') = 'P' || (id - min_id + 1)
};
$all_decrypt =~ s/min_id/(SELECT min(id) FROM orders.inventory_units)/g;
is($node->safe_psql('postgres', $all_decrypt), '40', 'key 1: every unit decrypts');

# The same id with other key material: the wrong key is an error, not garbage.
use_key_file(key_file("1:$k1_other\n"));
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT orders.vault_decrypt(card_number_enc, id, 'card_number') FROM orders.inventory_units LIMIT 1");
isnt($ret, 0, 'wrong key: refused');
like($err, qr/the card_number of row \d+ does not authenticate.*vault key 1 in the key file is not the key it was encrypted with/s,
	'wrong key: says so');

# Rotation: key 2 joins the file and encrypts from now on; the rotation
# re-encrypts in batches with progress; then key 1 leaves the file.
use_key_file(key_file("# old\n1:$k1\n# new\n2:$k2\n"));
is($node->safe_psql('postgres', "SELECT string_agg(key_id || ':' || newest, ',') FROM orders.vault_keys()"),
	'2:true,1:false', 'keys 1 and 2: key 2 is the newest');
($ret, $out, $err) = $node->psql('postgres', 'CALL orders.vault_rotate_all(15)');
is($ret, 0, 'rotation ran');
my @progress = ($err =~ /NOTICE:\s+(vault rotation: .*)/g);
is_deeply(
	\@progress,
	[
		'vault rotation: 15 units re-encrypted under key 2, 25 remain',
		'vault rotation: 15 units re-encrypted under key 2, 10 remain',
		'vault rotation: 10 units re-encrypted under key 2, 0 remain'
	],
	'rotation reports its progress batch by batch');
is($node->safe_psql('postgres', q{SELECT string_agg(key_id || ':' || units, ',') FROM orders.vault_key_usage()}),
	'1:0,2:40', 'key 1 holds no unit any more');

use_key_file(key_file("2:$k2\n"));
is($node->safe_psql('postgres', $all_decrypt), '40', 'key 1 removed: every unit still decrypts');
is( $node->safe_psql('postgres',
		q{SELECT string_agg(key_id || ':' || units || ':' || in_key_ring, ',') FROM orders.vault_key_usage()}),
	'2:40:true', 'only key 2 is in use and in the ring');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT count(*) FROM orders.load_inventory('[$units]'::jsonb)");
like($err, qr/inventory batch entry 1: its code is already loaded for this product/,
	'duplicates are still found after rotation');

# No setting, for no role, holds key material; another role does not see the
# setting once the library is loaded (a session that has not loaded it yet
# may see the file's path as a placeholder: preloading hides it from the start).
my $reader = sub {
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql, extra_params => [ '-U', 'regress_vault_reader' ]);
};
# (The keys are searched for here, not sent in a statement: the test cluster
# logs every statement, and the log is searched for keys below.)
my $all_settings = q{SELECT string_agg(name || '=' || coalesce(setting, ''), E'\n') FROM pg_settings};
my $any_key = qr/\Q$k1\E|\Q$k2\E|\Q$k1_other\E/i;
unlike($node->safe_psql('postgres', $all_settings), $any_key, 'superuser: no setting holds a key');
unlike($reader->($all_settings), $any_key, 'other role: no setting holds a key');
is( $reader->(
		"SELECT orders.load_inventory(1, 10, now() + interval '1 year', 'KEYRING-READER-1') IS NOT NULL;\n"
		  . "SELECT count(*) FROM pg_settings WHERE name = 'orders.vault_key_file'"),
	"t\n0", 'other role, library loaded: the setting is hidden');

# Preloaded: the same keys work after a restart, and the setting is hidden
# from other roles from the first statement of a session.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'orders'");
$node->restart;
is($node->safe_psql('postgres', $all_decrypt), '40', 'preloaded: every unit decrypts');
is($reader->("SELECT count(*) FROM pg_settings WHERE name LIKE 'orders.vault%'"),
	'0', 'preloaded: the setting is hidden from other roles');
($ret, $out, $err) = $node->psql('postgres', 'SHOW orders.vault_key_file',
	extra_params => [ '-U', 'regress_vault_reader' ]);
like($err, qr/must be superuser or have privileges of pg_read_all_settings to examine "orders.vault_key_file"/,
	'preloaded: SHOW refuses other roles');

# After all these errors, reloads and restarts: no key in the server log.
my $log = slurp_file($node->logfile);
unlike($log, $any_key, 'no key in the server log');

$node->stop;
done_testing();
