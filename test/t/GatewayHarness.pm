# GatewayHarness: what the gateway's TAP tests share (080 its clients, 081-084 all): a cluster with
# orders preloaded and the login role the docs tell an operator to create,
# the gateway started on a free port, and its log.
package GatewayHarness;

use strict;
use warnings FATAL => 'all';

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT_OK = qw(gateway_bin gateway_pid new_client start_cluster start_gateway stop_gateway wait_for
  start_process stop_process process_pid);

# Every program started here (gateways, and what other harnesses start
# with start_process).  If a test dies half way, END kills those still
# running: an orphan would also keep open the descriptors it inherited
# (such as make test's lock on /tmp/orders-install.lock).
my @started;

END
{
	eval { $_->kill_kill(grace => 2) } for @started;
}

sub gateway_bin
{
	return abs_path(dirname(__FILE__) . '/../../gateway/orders-gateway');
}

# A started cluster with the extension and the role "gateway"; conf =>
# "..." adds settings to postgresql.conf.
sub start_cluster
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	my $key_file = $node->basedir . '/vault.keys';
	open(my $kf, '>', $key_file) or die "$key_file: $!";
	print $kf '1:' . ('5a' x 32) . "\n";
	close $kf;
	chmod 0600, $key_file;
	$node->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = 'orders'
orders.vault_key_file = '$key_file'
orders.rate_limit_burst = 1000000
orders.rate_limit_per_minute = 1000000
max_connections = 40
} . ($opt{conf} // ''));
	$node->start;
	$node->safe_psql('postgres',
		'CREATE EXTENSION orders CASCADE; CREATE ROLE gateway LOGIN IN ROLE orders_authenticator;');
	return $node;
}

# A client with $funds USD and an API key: { id, key, secret }.
sub new_client
{
	my ($node, $name, $funds) = @_;
	my $row = $node->safe_psql(
		'postgres', qq{
SELECT orders.admin_create_client('$name') AS id \\gset
SELECT orders.fund_wallet(:id, 'USD', $funds, 'test funding') WHERE $funds > 0;
SELECT :id, key_id, secret FROM orders.admin_issue_api_key(:id, 'gateway test');
});
	my ($id, $key, $secret) = split /\|/, (split /\n/, $row)[-1];
	return { id => $id, key => $key, secret => $secret };
}

# Start the gateway: { port, log, handle }.  prefix => [...] runs it under
# a wrapper (valgrind); args => [...] adds options.
sub start_gateway
{
	my ($node, %opt) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $log = "$PostgreSQL::Test::Utils::tmp_check/gateway-$port.log";
	my @cmd = (
		@{ $opt{prefix} // [] }, gateway_bin(),
		'--port', $port, '--conninfo', $node->connstr('postgres') . ' user=gateway',
		'--pool-size', '3', @{ $opt{args} // [] });
	return { port => $port, log => $log, handle => start_process(\@cmd, $log) };
}

# Start a program in the background, stdout and stderr appended to $log;
# its IPC::Run handle, killed at the end if still running.
sub start_process
{
	my ($cmd, $log) = @_;
	my $h = IPC::Run::start($cmd, '<', \undef, '>>', $log, '2>>', $log);
	push @started, $h;
	return $h;
}

# The process id of what start_process started (IPC::Run's record).
sub process_pid
{
	my ($h) = @_;
	return $h->{KIDS}[0]{PID};
}

# SIGTERM, then wait for the exit; returns the exit code.
sub stop_process
{
	my ($h) = @_;
	$h->signal('TERM');
	$h->finish;
	return $h->result(0);
}

sub gateway_pid
{
	my ($gw) = @_;
	return process_pid($gw->{handle});
}

sub stop_gateway
{
	my ($gw) = @_;
	return stop_process($gw->{handle});
}

# Call $check until it returns true, up to $seconds.
sub wait_for
{
	my ($check, $seconds) = @_;
	for (1 .. $seconds * 10)
	{
		return 1 if $check->();
		select(undef, undef, undef, 0.1);
	}
	return 0;
}

1;
