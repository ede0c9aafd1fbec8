// @ts-check
'use strict';
// How a packet that a pod sends is dropped as a network would drop it. A `drop` in the pod's own
// output hook returns an error to the sender at once (EPERM: a UDP send, a DNS lookup fails in
// microseconds), while a CNI plugin or a lost link drops it outside the pod, where the sender
// notices nothing and waits (UDP is sent, TCP gets no answer). So output rules do not drop: they
// mark the packet in a `route` chain, and the pod's policy routing sends marked packets to a veth
// whose peer is down, which discards them without a word. (Inbound drops need none of this: the
// sender is elsewhere.)

/** The packet mark of a packet to discard. */
const DROP_MARK = '0x6b8e';
/** The routing table that marked packets use. */
const DROP_TABLE = '1000';
/** The device that discards them: one end of a veth pair whose other end stays down. */
const DROP_DEVICE = 'k8edrop';

/** The nft statement that discards a packet leaving the pod (in a chain of type route, hook output). */
const DISCARD_OUT = `meta mark set ${DROP_MARK}`;

/** `ip -n NETNS …` commands that make the discard route in a pod's network namespace. */
const DISCARD_ROUTE_SETUP = [
  ['link', 'add', DROP_DEVICE, 'type', 'veth', 'peer', 'name', `${DROP_DEVICE}-peer`],
  ['link', 'set', DROP_DEVICE, 'arp', 'off', 'up'],
  ['rule', 'add', 'fwmark', DROP_MARK, 'lookup', DROP_TABLE],
  ['route', 'add', 'default', 'dev', DROP_DEVICE, 'table', DROP_TABLE],
];

module.exports = { DISCARD_OUT, DISCARD_ROUTE_SETUP };
