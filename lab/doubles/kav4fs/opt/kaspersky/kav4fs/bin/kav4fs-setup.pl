#!/usr/bin/perl
# phaseout lab TEST DOUBLE of kav4fs-setup.pl -- not Kaspersky software.
# The real script configures the product interactively or from an answers
# file; the double only acknowledges the call.
use strict;
use warnings;
print "Kaspersky Anti-Virus for Linux File Server setup (phaseout lab test double)\n";
if (grep { /^--auto-install=|^--autoinstall=/ } @ARGV) {
    print "Configuration applied\n";
    exit 0;
}
print STDERR "Interactive setup is not supported by the test double; use --auto-install=<file>\n";
exit 1;
