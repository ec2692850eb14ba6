package probe.net_cidr_contains

import rego.v1

result := [
	net.cidr_contains("10.0.0.0/8", "10.1.2.3"),
	net.cidr_contains("10.0.0.0/8", "11.0.0.1"),
	net.cidr_contains("10.0.0.0/8", "10.2.0.0/16"),
	net.cidr_contains("fd00::/8", "fd00::1"),
]
