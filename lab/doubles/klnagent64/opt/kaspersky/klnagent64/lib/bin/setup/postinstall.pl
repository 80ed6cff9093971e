#!/usr/bin/perl
# phaseout lab TEST DOUBLE of the Network Agent postinstall.pl -- not Kaspersky software.
# Reads KLNAGENT_SERVER / KLNAGENT_PORT / KLNAGENT_SSLPORT from the file named
# by $KLAUTOANSWERS (or from the environment) and applies them with klmover.
use strict;
use warnings;

my %answers;
if ($ENV{KLAUTOANSWERS}) {
    open(my $in, '<', $ENV{KLAUTOANSWERS}) or do { print STDERR "Cannot read $ENV{KLAUTOANSWERS}: $!\n"; exit 1 };
    while (<$in>) { $answers{$1} = $2 if /^\s*([A-Z_]+)\s*=\s*(.*?)\s*$/ }
    close($in);
}
foreach my $key (qw(KLNAGENT_SERVER KLNAGENT_PORT KLNAGENT_SSLPORT)) {
    $answers{$key} = $ENV{$key} if $ENV{$key};
}
print "Kaspersky Security Center Network Agent setup (phaseout lab test double)\n";
if (!$answers{KLNAGENT_SERVER}) {
    print STDERR "KLNAGENT_SERVER not given (set KLAUTOANSWERS=<file>); interactive setup is not simulated\n";
    exit 1;
}
my @argv = ('/opt/kaspersky/klnagent64/bin/klmover', '-address', $answers{KLNAGENT_SERVER});
push @argv, '-port', $answers{KLNAGENT_PORT} if $answers{KLNAGENT_PORT};
push @argv, '-sslport', $answers{KLNAGENT_SSLPORT} if $answers{KLNAGENT_SSLPORT};
exit(system(@argv) == 0 ? 0 : 1);
