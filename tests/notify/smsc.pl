#!/usr/bin/perl
# A test SMSC on Perl's Net::SMPP (Debian libnet-smpp-perl) in server mode: binds any ESME,
# answers submit_sm with a fresh message id, then sends a delivery receipt (deliver_sm,
# esm_class 0x04). Logs one line per submit_sm on stdout:
#   SUBMIT <message_id> <destination> <data_coding> <esm_class> <hex short_message>
# Usage: smsc.pl PORT [MODE]
#   fail       answer every submit_sm with ESME_RSYSERR
#   reject:N   answer only the N-th submit_sm (1-based) with ESME_RSYSERR
#   undeliv:N  the N-th accepted submit_sm gets an UNDELIV receipt (undeliv:all: every one)
use strict;
use warnings;
use Net::SMPP;
$| = 1;
my ($port, $mode) = @ARGV;
$mode ||= "ok";
my $server = Net::SMPP->new_listen('127.0.0.1', port => $port, smpp_version => 0x34)
    or die "cannot listen: $!";
print "READY\n";
my ($rule, $nth) = split /:/, $mode;
$nth //= '';
my $next = 1000;
my ($seen, $accepted) = (0, 0);
while (1) {
    my $c = $server->accept or next;
    while (my $pdu = $c->read_pdu()) {
        my $cmd = $pdu->{cmd};
        if ($cmd == 0x00000009 || $cmd == 0x00000002) {
            my $m = $cmd == 9 ? 'bind_transceiver_resp' : 'bind_transmitter_resp';
            $c->$m(system_id => 'LWTEST', seq => $pdu->{seq});
        } elsif ($cmd == 0x00000004) {
            $seen++;
            if ($mode eq 'fail' || ($rule eq 'reject' && $seen == $nth)) {
                $c->submit_sm_resp(message_id => '', seq => $pdu->{seq}, status => 0x08);
                next;
            }
            $accepted++;
            my $undeliv = $rule eq 'undeliv' && ($nth eq 'all' || $accepted == $nth);
            my ($stat, $err) = $undeliv ? ('UNDELIV', '001') : ('DELIVRD', '000');
            my $id = "M" . $next++;
            printf "SUBMIT %s %s %d %d %s\n", $id, $pdu->{destination_addr}, $pdu->{data_coding},
                $pdu->{esm_class}, unpack('H*', $pdu->{short_message});
            $c->submit_sm_resp(message_id => $id, seq => $pdu->{seq});
            if ($pdu->{registered_delivery}) {
                $c->deliver_sm(source_addr => $pdu->{destination_addr}, destination_addr => $pdu->{source_addr},
                    esm_class => 0x04, async => 1,
                    short_message => "id:$id sub:001 dlvr:001 submit date:2603020900 done date:2603020900 stat:$stat err:$err text:");
            }
        } elsif ($cmd == 0x00000015) {
            $c->enquire_link_resp(seq => $pdu->{seq});
        } elsif ($cmd == 0x00000006) {
            $c->unbind_resp(seq => $pdu->{seq});
            last;
        }
    }
    close $c;
}
