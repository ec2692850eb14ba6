package probe.with_data

import rego.v1

limit := data.config.limit

result := x if {
	x := limit with data.config.limit as 42
}
