#!/usr/bin/perl
# A fanout peer: C Perl threads (ithreads), each with its own HTTP::Tiny and keep-alive
# connection, taking requests one after another until N are taken.
# Usage: perl_threads.pl URL C N TIMEOUT_MS; prints one JSON line (docs/peers.md).
use strict; use warnings; use threads; use threads::shared;
use HTTP::Tiny; use JSON::PP; use Time::HiRes qw(time);
my ($url, $c, $n, $timeout_ms) = @ARGV;
my $left :shared = $n;
sub kind {    # fanout's error kinds, from HTTP::Tiny's status and its 599 message
    my ($r) = @_;
    return "http_$r->{status}" if $r->{status} != 599;
    return "timeout" if $r->{content} =~ /timed out/i;
    return "connection_refused" if $r->{content} =~ /refused/i;
    return "connection_reset" if $r->{content} =~ /reset by peer/i;
    return "truncated" if $r->{content} =~ /unexpected end|premature/i;
    return "io";
}
sub take { lock($left); return $left > 0 ? $left-- : 0 }
sub slot {
    my $http = HTTP::Tiny->new(timeout => $timeout_ms / 1000, keep_alive => 1);
    my (@latencies, %errors);
    while (take()) {
        my $sent = time;
        my $r = $http->get($url);
        if ($r->{success}) { push @latencies, (time - $sent) * 1000 }
        else { $errors{ kind($r) }++ }
    }
    return [\@latencies, \%errors];
}
my $start = time;
my @threads = map { threads->create({ context => 'list' }, \&slot) } 1 .. $c;
my (@latencies, %errors);
for my $t (@threads) {
    my ($lat, $err) = @{ $t->join };
    push @latencies, @$lat;
    $errors{$_} += $err->{$_} for keys %$err;
}
print encode_json({ ok => scalar @latencies, errors => \%errors,
    wall_s => time - $start, latencies_ms => \@latencies }), "\n";
