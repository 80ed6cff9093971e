#!/usr/bin/perl
# phaseout lab TEST DOUBLE of kesl-setup.pl -- not Kaspersky software.
# Accepts --autoinstall=FILE (KEY=VALUE lines such as EULA_AGREED=yes,
# USE_KSN=no, UPDATER_SOURCE=SCServer) and records the answers in
# /var/opt/kaspersky/kesl/common/setup.ini. Interactive setup is not simulated.
use strict;
use warnings;

my $answers;
foreach my $arg (@ARGV) {
    if ($arg =~ /^--autoinstall=(.+)$/) {
        $answers = $1;
    } elsif ($arg eq '--help' || $arg eq '-h') {
        print "Usage: kesl-setup.pl --autoinstall=<file>\n";
        exit 0;
    } else {
        print STDERR "kesl-setup.pl: unknown option '$arg'\n";
        exit 1;
    }
}
print "Kaspersky Endpoint Security for Linux setup (phaseout lab test double)\n";
if (!defined $answers) {
    print STDERR "Interactive setup is not supported by the test double; use --autoinstall=<file>\n";
    exit 1;
}
open(my $in, '<', $answers) or do { print STDERR "Cannot read '$answers': $!\n"; exit 1 };
my @pairs = grep { /^\s*[A-Z_]+\s*=/ } <$in>;
close($in);
mkdir '/var/opt/kaspersky';
mkdir '/var/opt/kaspersky/kesl';
mkdir '/var/opt/kaspersky/kesl/common';
open(my $out, '>', '/var/opt/kaspersky/kesl/common/setup.ini') or do { print STDERR "Cannot write setup.ini: $!\n"; exit 1 };
print $out "[Setup]\n", map { s/^\s+//r } @pairs;
close($out);
print "Configuration applied from '$answers'\n";
exit 0;
