# HTTPS served by the gateway itself (libmicrohttpd with GnuTLS): curl
# --cacert against a certificate generated here, TLS 1.2 and 1.3 only,
# plain HTTP refused on the TLS port, the certificate reloaded on SIGHUP
# (a bad one is refused and the old one kept), and clear start-up errors.
use strict;
use warnings FATAL => 'all';

use File::Basename qw(dirname);
use lib dirname(__FILE__);

use GatewayHarness qw(gateway_bin gateway_pid start_cluster start_gateway stop_gateway wait_for);
use IPC::Run qw(run);
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

ok(-x gateway_bin(), 'the gateway is built') or BAIL_OUT('make all first');

my $dir = PostgreSQL::Test::Utils::tempdir();

# A self-signed certificate for 127.0.0.1 (its own CA for curl --cacert).
sub make_certificate
{
	my ($name) = @_;
	my ($out, $err) = ('', '');
	run([ 'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
		'-keyout', "$dir/$name.key", '-out', "$dir/$name.crt", '-days', '2',
		'-subj', "/CN=orders gateway test $name",
		'-addext', 'subjectAltName=IP:127.0.0.1' ], '>', \$out, '2>', \$err)
	  or die "openssl: $err";
	return ("$dir/$name.crt", "$dir/$name.key");
}
my ($cert1, $key1) = make_certificate('one');
my ($cert2, $key2) = make_certificate('two');

my $node = start_cluster('gateway_tls');
my $tls_cert = "$dir/serving.crt";
my $tls_key = "$dir/serving.key";
PostgreSQL::Test::Utils::append_to_file($tls_cert, PostgreSQL::Test::Utils::slurp_file($cert1));
PostgreSQL::Test::Utils::append_to_file($tls_key, PostgreSQL::Test::Utils::slurp_file($key1));
chmod 0600, $tls_key;

my $gw = start_gateway($node, args => [ '--tls-cert', $tls_cert, '--tls-key', $tls_key ]);
my $https = "https://127.0.0.1:$gw->{port}";

# curl: (exit code, HTTP status, body)
sub curl
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	run([ 'curl', '-sS', '--max-time', '10', '-w', '\n%{http_code}', @args ],
		'>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	my ($body, $status) = $out =~ /\A(.*)\n(\d{3})\z/s;
	return ($rc, $status // '000', $body // '', $err);
}

ok(wait_for(sub { (curl('--cacert', $cert1, "$https/api/v1/health"))[1] eq '200' }, 10),
	'HTTPS with curl --cacert: /api/v1/health 200');
my ($rc, $status, $body) = curl('--cacert', $cert1, "$https/api/v1/health");
is(eval { decode_json($body)->{database} }, 'ok', 'over HTTPS, the database answers');
($rc, $status) = curl('--cacert', $cert1, '--tlsv1.2', '--tls-max', '1.2', "$https/api/v1/openapi.json");
is($status, '200', 'TLS 1.2 is accepted');
($rc, $status) = curl('--cacert', $cert1, '--tlsv1.3', "$https/api/v1/openapi.json");
is($status, '200', 'TLS 1.3 is accepted');
($rc, $status) = curl('--cacert', $cert1, '--tlsv1.1', '--tls-max', '1.1',
	'--ciphers', 'DEFAULT@SECLEVEL=0', "$https/api/v1/openapi.json");
is($status, '000', 'TLS 1.1 is refused');

($rc, $status) = curl("http://127.0.0.1:$gw->{port}/api/v1/openapi.json");
is($status, '000', 'plain HTTP on the TLS port gets no HTTP answer');
isnt($rc, 0, '... curl reports the failure');

($rc, $status) = curl('--cacert', $cert2, "$https/api/v1/openapi.json");
isnt($status, '200', 'a client trusting only the second certificate fails before the reload');

# ---- reload on SIGHUP ----------------------------------------------------------

unlink $tls_cert, $tls_key;
PostgreSQL::Test::Utils::append_to_file($tls_cert, PostgreSQL::Test::Utils::slurp_file($cert2));
PostgreSQL::Test::Utils::append_to_file($tls_key, PostgreSQL::Test::Utils::slurp_file($key2));
kill 'HUP', gateway_pid($gw);
ok(wait_for(sub { (curl('--cacert', $cert2, "$https/api/v1/health"))[1] eq '200' }, 10),
	'after SIGHUP the second certificate is served');
($rc, $status) = curl('--cacert', $cert1, "$https/api/v1/openapi.json");
isnt($status, '200', '... and the first no longer');

# A broken pair (the key of the other certificate): refused, the old one stays.
unlink $tls_key;
PostgreSQL::Test::Utils::append_to_file($tls_key, PostgreSQL::Test::Utils::slurp_file($key1));
kill 'HUP', gateway_pid($gw);
ok(wait_for(sub { PostgreSQL::Test::Utils::slurp_file($gw->{log}) =~ /TLS certificate not reloaded/ }, 10),
	'a key that does not match: the reload is refused, logged');
($rc, $status) = curl('--cacert', $cert2, "$https/api/v1/openapi.json");
is($status, '200', '... and the certificate in use stays');
unlike(PostgreSQL::Test::Utils::slurp_file($gw->{log}), qr/PRIVATE KEY/, 'no key material in the log');

is(stop_gateway($gw), 0, 'the gateway exits 0 on SIGTERM');

# ---- start-up errors --------------------------------------------------------------

my ($out, $err) = ('', '');
run([ gateway_bin(), '--tls-cert', $cert1 ], '>', \$out, '2>', \$err);
is($? >> 8, 2, '--tls-cert without --tls-key: exit 2');
like($err, qr/--tls-cert and --tls-key go together/, '... saying so');
run([ gateway_bin(), '--port', '0', '--tls-cert', "$dir/missing.crt", '--tls-key', $key1 ],
	'>', \$out, '2>', \$err);
is($? >> 8, 1, 'a missing certificate file: exit 1');
like($err, qr/cannot use TLS certificate ".*missing\.crt"/, '... naming the file');

done_testing();
