# WebhookHarness: what the webhook TAP tests 09x share: a cluster with the
# fulfilment worker playing the sandbox vendor and short webhook retries, a
# client with an API key and money, the gateway, the test receiver
# (test/webhook-receiver/receiver.js, node + standardwebhooks) and the
# delivery daemon orders-webhookd, started and killed at will.
package WebhookHarness;

use strict;
use warnings FATAL => 'all';

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use HTTP::Tiny;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

use GatewayHarness qw(start_cluster start_gateway start_process stop_process process_pid wait_for);

our @EXPORT_OK = qw(webhookd_bin start_webhook_world start_receiver receiver_script
  receiver_secret received start_daemon daemon_pid kill_daemon stop_daemon api
  register_url register_endpoint place_order wait_for);

my $http = HTTP::Tiny->new(timeout => 30);

sub webhookd_bin
{
	return abs_path(dirname(__FILE__) . '/../../webhookd/orders-webhookd');
}

# The cluster (orders preloaded, the fulfilment worker every second playing
# the sandbox vendor, webhook retries after $retry_schedule, loopback URLs
# accepted at registration), the login role of the daemon, a client with an
# API key and 1,000 USD, two vendor-fulfilled products, and the gateway.
# Returns { node, gw, base, key, secret }.
sub start_webhook_world
{
	my ($name, %opt) = @_;
	my $schedule = $opt{retry_schedule} // '1 second, 1 second, 1 second, 1 second';
	my $node = start_cluster($name, conf => qq{
orders.worker_interval = '1s'
orders.sandbox_vendor = on
orders.vendor_lease_timeout = '5s'
orders.vendor_retry_base = '1s'
orders.webhook_retry_schedule = '$schedule'
orders.webhook_allow_private_addresses = on
restart_after_crash = on
});
	$node->safe_psql('postgres', q{
		CREATE ROLE webhookd LOGIN IN ROLE orders_webhook_sender;
		INSERT INTO orders.products (id, name, currency, kind, denominations, order_quantity_limit)
		VALUES (1, 'Webhook Card', 'USD', 'GIFT_CARD', '{10,25}', 5);
		INSERT INTO orders.sandbox_vendor_scenarios (po_prefix, outcomes) VALUES
			('fail-', '{final}'), ('partial-', '{partial,final}');
	});
	my $client = $node->safe_psql('postgres', q{SELECT orders.admin_create_client('webhook client')});
	$node->safe_psql('postgres', qq{SELECT orders.fund_wallet($client, 'USD', 1000)});
	my ($key, $secret) = split /\|/, $node->safe_psql('postgres',
		qq{SELECT key_id || '|' || secret FROM orders.admin_issue_api_key($client, 'webhook tests')});
	my $gw = start_gateway($node);
	my $base = "http://127.0.0.1:$gw->{port}";
	wait_for(sub { ($http->get("$base/api/v1/health")->{status} // 0) == 200 }, 10)
	  or die 'the gateway did not start';
	return { node => $node, gw => $gw, base => $base, key => $key, secret => $secret };
}

# One API call as the client: { status, json }.
sub api
{
	my ($w, $method, $path, $body) = @_;
	my $r = $http->request($method, "$w->{base}$path", {
		headers => { 'X-API-Key' => $w->{key}, 'X-API-Secret' => $w->{secret},
			'Content-Type' => 'application/json' },
		defined $body ? (content => encode_json($body)) : () });
	my $json = eval { decode_json($r->{content}) };
	return { status => $r->{status}, json => $json, content => $r->{content} };
}

# Register a webhook endpoint for $url through the API (every order event
# unless @types): { id, secret }.
sub register_url
{
	my ($w, $url, @types) = @_;
	@types = qw(order.placed order.pending order.processing order.delivered
	  order.partially_delivered order.failed order.cancelled order.refunded) unless @types;
	my $r = api($w, 'POST', '/api/v1/webhooks',
		{ url => $url, eventTypes => \@types, description => 'test endpoint' });
	die "POST /api/v1/webhooks: $r->{status} (secret left out)" unless $r->{status} == 201;
	my $data = $r->{json}{data} // $r->{json};
	return { id => $data->{id}, secret => $data->{secret} };
}

# Register the receiver's $path and give the receiver its secret: the id.
sub register_endpoint
{
	my ($w, $rcv, $path, @types) = @_;
	my $e = register_url($w, "http://127.0.0.1:$rcv->{port}$path", @types);
	receiver_secret($rcv, $path, $e->{secret});
	return $e->{id};
}

# Place an order through the API: its id.
sub place_order
{
	my ($w, $po, %opt) = @_;
	my $r = api($w, 'POST', '/api/v1/orders', { data => {
		productId => 1, quantity => $opt{quantity} // 1, denomination => 10,
		email => 'customer@example.com', poNumber => $po } });
	# 200: a replay of the same poNumber (a retried call)
	die "POST /api/v1/orders $po: $r->{status} $r->{content}"
	  unless $r->{status} == 201 || $r->{status} == 200;
	return $r->{json}{data}{placeOrder}{data}{orderId};
}

my $receivers = 0;
my $daemons = 0;

# The receiver: { port, handle, base }.
sub start_receiver
{
	my $dir = abs_path(dirname(__FILE__) . '/../webhook-receiver');
	-d "$dir/node_modules/standardwebhooks"
	  or die "$dir/node_modules is missing: run test/webhook-receiver/setup.sh";
	my $port_file = "$PostgreSQL::Test::Utils::tmp_check/receiver-$$-" . ++$receivers . '.port';
	unlink $port_file;
	my $log = "$PostgreSQL::Test::Utils::log_path/receiver.log";
	my $h = start_process([ 'node', "$dir/receiver.js", $port_file ], $log);
	wait_for(sub { -s $port_file }, 20) or die 'the receiver did not start';
	my $port = slurp_file($port_file);
	return { port => $port, handle => $h, base => "http://127.0.0.1:$port" };
}

sub control
{
	my ($rcv, $what, $args) = @_;
	my $r = $http->post("$rcv->{base}/_control/$what",
		{ content => encode_json($args), headers => { 'content-type' => 'application/json' } });
	die "receiver $what: $r->{status}" unless $r->{status} == 200;
}

# The next requests to $path are answered so: ok, 500, redirect, hang, close, slow.
sub receiver_script
{
	my ($rcv, $path, @actions) = @_;
	control($rcv, 'script', { path => $path, actions => \@actions });
}

sub receiver_secret
{
	my ($rcv, $path, $secret) = @_;
	control($rcv, 'secret', { path => $path, secret => $secret });
}

# What $path received, in arrival order: [{ webhook_id, verified, answer,
# at (ms), event (the body, decoded), ... }].
sub received
{
	my ($rcv, $path) = @_;
	my $r = $http->get("$rcv->{base}/_control/received?path=$path");
	die "receiver received: $r->{status}" unless $r->{status} == 200;
	my $list = decode_json($r->{content});
	$_->{event} = eval { decode_json($_->{body}) } for @$list;
	return $list;
}

# Start orders-webhookd: { handle, log, sender }.  args => [...] replaces
# the default options after --conninfo and --sender.
sub start_daemon
{
	my ($w, %opt) = @_;
	my $sender = $opt{sender} // 'webhookd-' . ++$daemons;
	my $log = "$PostgreSQL::Test::Utils::log_path/webhookd-$sender.log";
	my @cmd = (@{ $opt{prefix} // [] }, webhookd_bin(),
		'--conninfo', $w->{node}->connstr('postgres') . ' user=webhookd',
		'--sender', $sender,
		@{ $opt{args} // [ '--poll-interval', '0.2', '--connect-timeout', '1', '--timeout', '2',
			'--lease', '5', '--concurrency', '8', '--allow-private-addresses' ] });
	return { handle => start_process(\@cmd, $log), log => $log, sender => $sender };
}

sub daemon_pid
{
	my ($d) = @_;
	return process_pid($d->{handle});
}

sub kill_daemon
{
	my ($d) = @_;
	$d->{handle}->signal('KILL');
	eval { $d->{handle}->finish };
}

# SIGTERM, then wait for the exit; returns the exit code.
sub stop_daemon
{
	my ($d) = @_;
	return stop_process($d->{handle});
}

1;
