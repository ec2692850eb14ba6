package probe.net_cidr_is_valid

import rego.v1

result := [net.cidr_is_valid("10.0.0.0/8"), net.cidr_is_valid("10.0.0.0/33"), net.cidr_is_valid("nope")]
