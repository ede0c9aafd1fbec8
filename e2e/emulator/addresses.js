// @ts-check
'use strict';
// The run's address plan. The harness (e2e/lib/harness.js) creates the node network's bridge with
// NODE_IP; pods and Services take addresses from these ranges, each emulated node one of its own.

/**
 * The node network's address on the pod bridge `br0`: the pods' gateway, the name server's address,
 * and where every node's kubelet probes pods from (all the emulated nodes share one network
 * namespace).
 */
const NODE_IP = '10.244.0.1';
/** The pod network is 10.244.0.0/16, one address a pod. */
const POD_PREFIX_LEN = 16;
const POD_CIDR = `10.244.0.0/${POD_PREFIX_LEN}`;
/** ClusterIPs: 10.96.0.0/16, routed from every pod to the node, where nothing answers them. */
const SERVICE_CIDR = '10.96.0.0/16';

/** @param {number} index the pod's number in this run (2, 3, …) */
function podIP(index) { return `10.244.${(index >> 8) & 255}.${index & 255}`; }

/** @param {number} index the Service's number in this run (10, 11, …) */
function serviceIP(index) { return `10.96.${(index >> 8) & 255}.${index & 255}`; }

/**
 * An emulated node's own address (status.hostIP of its pods): outside the pod and Service ranges,
 * and not routed, since every node's pods share the one node network.
 * @param {number} index the node's place in the run's node list (0, 1, …)
 */
function nodeIP(index) { return `10.243.0.${index + 10}`; }

module.exports = { NODE_IP, POD_PREFIX_LEN, POD_CIDR, SERVICE_CIDR, podIP, serviceIP, nodeIP };
