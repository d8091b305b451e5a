/**
 * Per network interface: throughput, errors and drops per second, link state
 * and speed, Wi-Fi signal. One file per OS family: network-linux.ts,
 * network-si.ts (macOS, Windows); this one holds what they share.
 */

/** Container and hypervisor plumbing repeats the host's traffic. VPN tunnels (tun, wg) are kept. */
export const IGNORED_IFACE = /^(lo|ifb\d+|veth.*|docker\d+|br-[0-9a-f]+|virbr\d+(-nic)?|vnet\d+|cni\d+|flannel.*|cali.*)$/
