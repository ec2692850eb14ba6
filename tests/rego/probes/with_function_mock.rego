package probe.with_function_mock

import rego.v1

lookup(x) := "real"

r := lookup(1)

fake(_) := "mock"

result := v if {
	v := r with lookup as fake
}
