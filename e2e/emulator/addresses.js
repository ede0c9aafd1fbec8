// @ts-check
'use strict';
// The emulated node and its address plan. The harness (e2e/lib/harness.js) creates the node's
// bridge with NODE_IP; pods and Services take addresses from these ranges.

/** The one node every pod runs on (`spec.nodeName`). */
const NODE_NAME = 'k8e-node';
/** The node's address on the pod bridge `br0`: the pods' gateway and `status.hostIP`. */
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

module.exports = { NODE_NAME, NODE_IP, POD_PREFIX_LEN, POD_CIDR, SERVICE_CIDR, podIP, serviceIP };
