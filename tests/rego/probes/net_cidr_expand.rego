package probe.net_cidr_expand

import rego.v1

result := net.cidr_expand("192.168.0.0/30")
