#!/usr/bin/perl
# bench/report.pl: the numbers of bench/run.sh.
#
#   report.pl stats DIR RC
#       one run of pgbench (DIR/stdout, DIR/stderr, DIR/tx.* per-transaction
#       logs) -> one tab-separated line:
#       ok|failed  tps  mean_ms  p99_ms  transactions  failed_tx  note
#       The mean and the 99th percentile come from the per-transaction logs
#       (every transaction's latency), not from pgbench's summary.
#   report.pl wrk DIR RC
#       the same line for one run of wrk (DIR/stdout of wrk --latency).
#   report.pl report RESULTS ENV WORKLOADS OUT.md
#       the markdown report, OUT.svg (gnuplot) beside it.
#   report.pl profile DIR WORKLOADS OUT.md
#       the profiles (pg_stat_statements, perf) of the engine's workloads.
use strict;
use warnings;
use File::Basename qw(basename dirname);
use POSIX qw(ceil);

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return '';
	local $/;
	my $text = <$fh>;
	return $text;
}

# The first line of stderr that says what went wrong, without values that
# could be codes: pgbench quotes the failing statement's error only.
sub first_error {
	my ($dir) = @_;
	for my $line (split /\n/, slurp("$dir/stderr") . "\n" . slurp("$dir/stdout")) {
		return $1 if $line =~ /((?:ERROR|FATAL|error|aborted)[^\n]{0,160})/;
	}
	return 'no output';
}

sub percentile {
	my ($sorted, $p) = @_;
	return 0 unless @$sorted;
	my $i = ceil($p * @$sorted) - 1;
	$i = 0 if $i < 0;
	return $sorted->[$i];
}

sub stats {
	my ($dir, $rc) = @_;
	my (@lat, $failed);
	$failed = 0;
	for my $log (glob("$dir/tx.*")) {
		open(my $fh, '<', $log) or die "$log: $!";
		while (<$fh>) {
			my @f = split ' ';
			next unless @f >= 6;
			if ($f[2] =~ /^\d+$/) { push @lat, $f[2]; }
			else { $failed++; }    # "failed" or "skipped"
		}
	}
	my $out = slurp("$dir/stdout");
	my ($tps) = $out =~ /^tps = ([\d.]+)/m;
	my ($pg_failed) = $out =~ /^number of failed transactions: (\d+)/m;
	$failed = $pg_failed if defined $pg_failed && $pg_failed > $failed;
	if ($rc != 0 || !defined $tps || !@lat || $failed) {
		printf "failed\t%s\t\t\t%d\t%d\t%s\n", $tps // '', scalar(@lat), $failed, first_error($dir);
		return;
	}
	my @sorted = sort { $a <=> $b } @lat;
	my $sum = 0;
	$sum += $_ for @lat;
	printf "ok\t%.1f\t%.3f\t%.3f\t%d\t0\t\n", $tps, $sum / @lat / 1000,
	  percentile(\@sorted, 0.99) / 1000, scalar(@lat);
}

# wrk --latency prints Requests/sec, the mean latency and a distribution
# with the 99% point; non-2xx responses and socket errors are failures.
sub wrk_stats {
	my ($dir, $rc) = @_;
	my $out = slurp("$dir/stdout");
	my ($tps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
	my ($n) = $out =~ /(\d+) requests in/;
	my ($bad) = $out =~ /Non-2xx or 3xx responses: (\d+)/;
	my ($sock) = $out =~ /Socket errors: (.*)/;
	my $mean = ms($out =~ /Latency\s+([\d.]+\w+)/);
	my $p99 = ms($out =~ /^\s+99%\s+([\d.]+\w+)/m);
	if ($rc != 0 || !defined $tps || !$n || $bad || $sock) {
		printf "failed\t%s\t\t\t%d\t%d\t%s\n", $tps // '', $n // 0, $bad // 0,
		  $bad ? "$bad non-2xx responses" : $sock ? "socket errors: $sock" : first_error($dir);
		return;
	}
	printf "ok\t%.1f\t%.3f\t%.3f\t%d\t0\t\n", $tps, $mean, $p99, $n;
}

sub ms {
	my ($v) = @_;
	return 0 unless defined $v;
	my ($num, $unit) = $v =~ /^([\d.]+)(\w+)$/ or return 0;
	return $num / 1000 if $unit eq 'us';
	return $num if $unit eq 'ms';
	return $num * 1000 if $unit eq 's';
	return $num * 60000 if $unit eq 'm';
	return 0;
}

# --- the report -----------------------------------------------------------------

# What "ref" and "limit" mean, per workload, comes from the "-- what:" line
# of each script; the title from the "-- title:" line of any of them.
sub workload_meta {
	my ($dir) = @_;
	my %meta;
	for my $wdir (sort glob("$dir/*")) {
		next unless -d $wdir;
		my $w = basename($wdir);
		for my $script (sort glob("$wdir/*.sql"), sort glob("$wdir/*.lua")) {
			my ($impl) = basename($script) =~ /^(\w+)\./;
			my $text = slurp($script);
			$meta{$w}{title} //= $1 if $text =~ /^-- title: *(.*)$/m;
			$meta{$w}{what}{$impl} = $1 if $text =~ /^-- what: *(.*)$/m;
		}
		$meta{$w}{title} //= $w;
	}
	return \%meta;
}

# The issue's targets (#7), as ratios measured in one run at 2 and 8 clients:
#   workload | kind | other | bound | text
#   tps      ours tps / other's tps >= bound
#   p99      ours p99 (ms) < bound
#   mean_vs  ours mean latency / the other workload's ours mean <= bound
#   cost     (ours - limit) / (ref - limit) of the mean latency <= bound
my @targets = map {
	my @f = split /\s*\|\s*/;
	{ w => $f[0], kind => $f[1], other => $f[2], bound => eval $f[3], text => $f[4] }
} grep { /\S/ } split /\n/, <<'TARGETS';
10_create_instant   | tps     | ref               | 2.0 | create order (instant) >= 2.0x reference tps
10_create_instant   | tps     | limit             | 0.5 | create order (instant) >= 0.5x write limit tps
20_details_1        | tps     | ref               | 5.0 | order details, one voucher >= 5x reference tps
20_details_1        | tps     | nodecrypt         | 0.8 | order details, one voucher >= 0.8x the same read without decryption
41_vault_decrypt    | tps     | ref               | 50  | vault decrypt >= 50x pgp_sym_decrypt per call
41_vault_decrypt    | tps     | limit             | 0.5 | vault decrypt within 2x of raw decrypt(..., 'aes')
33_list_p500_status | p99     | -                 | 5   | list page 500 with status filter: p99 < 5 ms
31_list_p500        | p99     | -                 | 5   | list page 500: p99 < 5 ms
31_list_p500        | mean_vs | 30_list_p1        | 2   | list page 500 within 2x of page 1 (mean latency)
33_list_p500_status | mean_vs | 32_list_p1_status | 2   | list page 500 with status within 2x of page 1 (mean latency)
51_transition_batch | cost    | -                 | 1/3 | transition trigger >= 3x cheaper than the PL/pgSQL trigger (pgbench, derived)
60_http_details     | tps     | limit             | 0.7 | gateway: details >= 0.7x the same SQL through pgbench
61_http_list        | tps     | limit             | 0.7 | gateway: list >= 0.7x the same SQL through pgbench
62_http_create      | tps     | limit             | 0.7 | gateway: create >= 0.7x the same SQL through pgbench
TARGETS

sub fmt {
	my ($v, $digits) = @_;
	return '-' unless defined $v && $v ne '';
	return sprintf("%.${digits}f", $v);
}

sub ratio {
	my ($a, $b) = @_;
	return undef unless defined $a && defined $b && $a ne '' && $b ne '' && $b > 0;
	return $a / $b;
}

sub ratio_text {
	my ($r) = @_;
	return '-' unless defined $r;
	return sprintf($r >= 10 ? '%.0fx' : $r >= 1 ? '%.2fx' : '%.3fx', $r);
}

sub report {
	my ($results, $envfile, $wldir, $out) = @_;
	my $meta = workload_meta($wldir);
	my (%r, %skipped, @order, %seen, %clients_seen, @failed);
	open(my $fh, '<', $results) or die "$results: $!";
	while (<$fh>) {
		chomp;
		my ($w, $impl, $clients, $status, $tps, $mean, $p99, $n, $nfailed, $note) = split /\t/, $_, -1;
		push @order, $w unless $seen{$w}++;
		if ($status eq 'skipped') { $skipped{$w}{$impl} = $tps; next; }
		$clients_seen{$clients} = 1;
		$r{$w}{$clients}{$impl} = { status => $status, tps => $tps, mean => $mean, p99 => $p99,
									n => $n, failed => $nfailed, note => $note };
		push @failed, "$w/$impl at $clients clients: $note" if $status ne 'ok';
	}
	close $fh;
	my @clients = sort { $a <=> $b } keys %clients_seen;

	my (%env, @settings, @sizes, %probe);
	open($fh, '<', $envfile) or die "$envfile: $!";
	while (<$fh>) {
		chomp;
		my ($k, $v) = split /\t/, $_, 2;
		next unless defined $v;
		if ($k =~ /^probe (.*)/) {
			my ($t, $u, $m) = split /\t/, $v;
			$probe{$1} = { trigger => $t, update => $u, min => $m // '' };
		}
		elsif ($k =~ /^setting (.*)/) { push @settings, "$1 = $v"; }
		elsif ($k =~ /^size (.*)/) { push @sizes, "$1: $v"; }
		else { $env{$k} = $v; }
	}
	close $fh;

	my $date = basename($out, '.md');
	my $svg = $out =~ s/\.md$/.svg/r;
	my @md;
	push @md, "# Benchmark: orders vs the PL/pgSQL reference vs the limit ($date)", '';
	push @md, 'Written by `make bench` (bench/run.sh); the method is in '
	  . '[docs/benchmarks.md](../../docs/benchmarks.md). '
	  . '*ours* = the orders extension, *ref* = the plain PL/pgSQL + pgcrypto '
	  . 'implementation (bench/reference/), *limit* = the bare minimum on this machine '
	  . '(per workload below). Ratios are throughput ratios (tps) measured in the same run, '
	  . 'the implementations alternating.', '';
	push @md, "**Mode: $env{mode}** (smoke runs check that the harness works; their timings mean nothing).", ''
	  if ($env{mode} // '') ne 'full';
	push @md, '## Machine and settings', '';
	push @md, "- CPU: $env{cpu} ($env{cores} cores), memory $env{memory}, $env{kernel}";
	push @md, "- disk: $env{disk}";
	push @md, "- PostgreSQL $env{server}; $env{pgbench}; orders build $env{build}";
	push @md, "- load average: $env{load}";
	push @md, "- runs: $env{run}";
	push @md, "- settings: " . join(', ', @settings);
	push @md, "- data (loaded in $env{load_seconds} s): " . join('; ', @sizes), '';

	push @md, '## Targets', '';
	push @md, '| target | ' . join(' | ', map { "$_ clients" } grep { $_ >= 2 } @clients) . ' | holds |';
	push @md, '|---|' . join('', map { '---|' } grep { $_ >= 2 } @clients) . '---|';
	for my $t (@targets) {
		my (@cells, $holds, $any);
		$holds = 1;
		for my $c (grep { $_ >= 2 } @clients) {
			my ($v, $ok) = target_value($t, \%r, $c);
			if (!defined $v) { push @cells, 'n/a'; $holds = 0; next; }
			$any = 1;
			push @cells, $t->{kind} eq 'p99' ? sprintf('%.2f ms', $v)
			  : $t->{kind} eq 'cost' ? sprintf('%.2f', $v) : ratio_text($v);
			$holds = 0 unless $ok;
		}
		next unless @cells;
		push @md, "| $t->{text} | " . join(' | ', @cells) . ' | '
		  . (!$any ? 'not measured' : $holds ? 'yes' : '**no**') . ' |';
	}
	if ($probe{ours} && $probe{ref} && $probe{ref}{trigger} > 0) {
		my $v = $probe{ours}{trigger} / $probe{ref}{trigger};
		push @md, '| transition trigger >= 3x cheaper than the PL/pgSQL trigger (trigger time, EXPLAIN ANALYZE) | '
		  . join(' | ', (sprintf('%.2f', $v)) x scalar(grep { $_ >= 2 } @clients))
		  . ' | ' . ($v <= 1 / 3 ? 'yes' : '**no**') . ' |';
	}
	push @md, '', 'Transition trigger: the cost is ours / ref of the trigger\'s time per row; at most '
	  . '0.33 means 3x cheaper. The pgbench row derives it from whole 100-row UPDATE transactions, '
	  . '(ours - limit) / (ref - limit) of their mean latency, where commits and index '
	  . 'maintenance blur microseconds; the EXPLAIN ANALYZE row reads the trigger\'s own time '
	  . '("Trigger ...: time=... calls=...") of single-client UPDATEs of 100 rows, median of 21 '
	  . 'in alternation (below).', '';
	if (%probe) {
		push @md, table_head('EXPLAIN ANALYZE, 21 UPDATEs of 100 rows', 'trigger us per row (median)',
			'trigger us per row (min)', 'whole UPDATE us per row (median)');
		for my $impl (sort { impl_rank($a) <=> impl_rank($b) } keys %probe) {
			push @md, "| $impl | $probe{$impl}{trigger} | $probe{$impl}{min} | $probe{$impl}{update} |";
		}
		push @md, '';
	}
	push @md, "Where the engine's time goes in these workloads (every SQL statement its functions "
	  . "run, and the server's hottest functions): [$env{profile}]($env{profile}).", ''
	  if $env{profile};

	# the runs of each workload and client count, in the report's order
	my @cells = map { my $w = $_; map { $r{$w}{$_} ? [$w, $_, $r{$w}{$_}] : () } @clients } @order;

	push @md, '## Summary: ratios', '',
	  table_head('workload', 'clients', 'ours tps', 'ours / ref', 'ours / limit', 'ours p99 ms');
	for my $cell (@cells) {
		my ($w, $c, $x) = @$cell;
		my $ot = ok_tps($x->{ours});
		push @md, sprintf('| %s | %d | %s | %s | %s | %s |', $meta->{$w}{title}, $c,
			fmt($ot, 0), ratio_text(ratio($ot, ok_tps($x->{ref}))),
			ratio_text(ratio($ot, ok_tps($x->{limit}))), defined $ot ? fmt($x->{ours}{p99}, 2) : '-');
	}
	push @md, '', "![ratios]($date.svg)", '' if -e $svg || have_gnuplot();

	push @md, '## Every run', '',
	  table_head('workload', 'clients', 'impl', 'tps', 'mean ms', 'p99 ms', 'transactions', 'ours / this');
	for my $cell (@cells) {
		my ($w, $c, $x) = @$cell;
		for my $impl (sort { impl_rank($a) <=> impl_rank($b) } keys %$x) {
			my $y = $x->{$impl};
			push @md, $y->{status} ne 'ok'
			  ? "| $meta->{$w}{title} | $c | $impl | FAILED: $y->{note} | | | | |"
			  : sprintf('| %s | %d | %s | %s | %s | %s | %d | %s |', $meta->{$w}{title}, $c, $impl,
				fmt($y->{tps}, 1), fmt($y->{mean}, 3), fmt($y->{p99}, 3), $y->{n},
				$impl eq 'ours' ? '' : ratio_text(ratio(ok_tps($x->{ours}), $y->{tps})));
		}
	}
	push @md, '';

	push @md, '## What each column measures', '';
	for my $w (@order) {
		push @md, "- **$meta->{$w}{title}** (`bench/workloads/$w/`)";
		for my $impl (sort { impl_rank($a) <=> impl_rank($b) } keys %{ $meta->{$w}{what} // {} }) {
			push @md, "  - $impl: $meta->{$w}{what}{$impl}";
		}
		for my $impl (sort keys %{ $skipped{$w} // {} }) {
			push @md, "  - $impl: not run ($skipped{$w}{$impl})";
		}
	}
	push @md, '';
	if (@failed) {
		push @md, '## Failed runs', '', map({ "- $_" } @failed), '';
	}

	open(my $mdfh, '>', $out) or die "$out: $!";
	print $mdfh join("\n", @md), "\n";
	close $mdfh;
	chart($svg, \%r, \@order, $meta, [grep { $_ >= 2 } @clients]) if have_gnuplot();
}

# tps of a run that succeeded, else undef
sub ok_tps {
	my ($y) = @_;
	return $y && $y->{status} eq 'ok' ? $y->{tps} : undef;
}

sub table_head {
	return ('| ' . join(' | ', @_) . ' |', '|' . ('---|' x @_));
}

sub impl_rank {
	my %rank = (ours => 0, ref => 1, limit => 2, nodecrypt => 3);
	return $rank{ $_[0] } // 9;
}

sub target_value {
	my ($t, $r, $c) = @_;
	my $x = $r->{ $t->{w} }{$c} or return;
	my $o = $x->{ours};
	return unless $o && $o->{status} eq 'ok';
	if ($t->{kind} eq 'tps') {
		my $y = $x->{ $t->{other} };
		return unless $y && $y->{status} eq 'ok';
		my $v = ratio($o->{tps}, $y->{tps});
		return ($v, $v >= $t->{bound});
	}
	if ($t->{kind} eq 'p99') {
		return ($o->{p99}, $o->{p99} < $t->{bound});
	}
	if ($t->{kind} eq 'mean_vs') {
		my $b = $r->{ $t->{other} }{$c}{ours};
		return unless $b && $b->{status} eq 'ok';
		my $v = ratio($o->{mean}, $b->{mean});
		return ($v, $v <= $t->{bound});
	}
	if ($t->{kind} eq 'cost') {
		my ($ref, $lim) = ($x->{ref}, $x->{limit});
		return unless $ref && $lim && $ref->{status} eq 'ok' && $lim->{status} eq 'ok';
		my $v = ratio($o->{mean} - $lim->{mean}, $ref->{mean} - $lim->{mean});
		return unless defined $v;
		return ($v, $v <= $t->{bound});
	}
	return;
}

sub have_gnuplot {
	return system('command -v gnuplot >/dev/null 2>&1') == 0;
}

# Bars of ours/ref and ours/limit per workload at 2 and 8 clients, on a log
# scale (the ratios span 0.01x to 1000x); the line at 1 is parity.
sub chart {
	my ($svg, $r, $order, $meta, $clients) = @_;
	my @series;
	for my $c (@$clients) {
		push @series, ["ours / ref, $c clients", 'ref', $c], ["ours / limit, $c clients", 'limit', $c];
	}
	my @rows;
	for my $w (@$order) {
		my @vals;
		my $any;
		for my $s (@series) {
			my $x = $r->{$w}{ $s->[2] };
			my $v = $x && $x->{ours} && $x->{ $s->[1] } && $x->{ours}{status} eq 'ok'
			  && $x->{ $s->[1] }{status} eq 'ok' ? ratio($x->{ours}{tps}, $x->{ $s->[1] }{tps}) : undef;
			$any = 1 if defined $v;
			push @vals, defined $v ? sprintf('%.4g', $v) : 'NaN';
		}
		next unless $any;
		(my $label = $meta->{$w}{title}) =~ s/"/'/g;
		push @rows, join(' ', "\"$label\"", @vals);
	}
	return unless @rows;
	my $plots = join(', ', map {
		my $i = $_ + 2;
		"\$data using $i:xtic(1) title \"$series[$_][0]\""
	} 0 .. $#series);
	my $height = 500;
	my $gp = <<"GP";
set terminal svg size 1200,$height dynamic font "sans,11"
set output "$svg"
set title "orders: throughput ratios (higher is better for ours; 1 = parity)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.01:*]
set ylabel "ratio of tps (log scale)"
set xtics rotate by -35 left font ",9"
set grid ytics
set key top left
set bmargin 12
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "black"
\$data << EOD
@{[join("\n", @rows)]}
EOD
plot $plots
GP
	open(my $gpfh, '|-', 'gnuplot') or die "gnuplot: $!";
	print $gpfh $gp;
	close $gpfh or warn "gnuplot failed\n";
}

# The profiles of bench/run.sh: per workload, the statements
# pg_stat_statements saw (toplevel, calls, total ms, query) and perf's
# hottest server functions.
sub profile {
	my ($dir, $wldir, $out) = @_;
	my $meta = workload_meta($wldir);
	my @md = ('# Where the time goes: profiles of the engine\'s workloads', '',
		'Written by `make bench` after the measured runs: each workload once more, the engine '
		  . 'only, one client, with `pg_stat_statements` (track = all: the statements inside the '
		  . 'functions too) and, where `perf` works, a sample of the whole machine '
		  . '(`perf record -a`, postgres processes only, percentages of their samples; the server binary is stripped, so '
		  . 'static functions show as addresses). "share" is a statement\'s total time over the '
		  . 'top-level statements\' total: nested statements are counted inside their callers '
		  . 'too, so shares do not add up to 100%.', '');
	for my $wdir (sort glob("$dir/*")) {
		next unless -d $wdir;
		my $w = basename($wdir);
		push @md, "## $meta->{$w}{title} (`$w`)", '';
		my (@rows, $top);
		$top = 0;
		for my $line (split /\n/, slurp("$wdir/statements.tsv")) {
			my ($toplevel, $calls, $total, $query) = split /\t/, $line, 4;
			next unless defined $query;
			push @rows, [$toplevel, $calls, $total, $query];
			$top += $total if $toplevel eq 't';
		}
		if (@rows) {
			push @md, '| level | calls | total ms | share | us per call | statement |', '|---|---|---|---|---|---|';
			for my $r (@rows) {
				my ($toplevel, $calls, $total, $query) = @$r;
				$query =~ s/\|/\\|/g;
				$query = substr($query, 0, 160) . '...' if length($query) > 160;
				push @md, sprintf('| %s | %d | %.1f | %s | %.1f | `%s` |', $toplevel eq 't' ? 'top' : 'nested',
					$calls, $total, $top > 0 ? sprintf('%.0f%%', 100 * $total / $top) : '-',
					$calls ? 1000 * $total / $calls : 0, $query);
			}
			push @md, '';
		}
		my $perf = slurp("$wdir/perf.txt");
		if ($perf ne '') {
			push @md, 'perf, postgres processes (self time):', '', '```', (map { s/\s+-\s+-\s*$//r } split /\n/, $perf), '```', '';
		}
	}
	open(my $fh, '>', $out) or die "$out: $!";
	print $fh join("\n", @md), "\n";
	close $fh;
}

# The tables above are initialized before this runs.
my $cmd = shift @ARGV // '';
if ($cmd eq 'stats') { stats(@ARGV); }
elsif ($cmd eq 'wrk') { wrk_stats(@ARGV); }
elsif ($cmd eq 'report') { report(@ARGV); }
elsif ($cmd eq 'profile') { profile(@ARGV); }
else { die "usage: report.pl stats DIR RC | wrk DIR RC | report RESULTS ENV WORKLOADS OUT | profile DIR WORKLOADS OUT\n"; }
