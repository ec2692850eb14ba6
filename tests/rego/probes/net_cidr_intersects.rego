package probe.net_cidr_intersects

import rego.v1

result := [net.cidr_intersects("10.0.0.0/8", "10.1.0.0/16"), net.cidr_intersects("10.0.0.0/24", "10.0.1.0/24")]
