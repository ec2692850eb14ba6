package probe.with_input

import rego.v1

allow if input.user == "admin"

result if {
	allow with input as {"user": "admin"}
	not allow with input as {"user": "guest"}
}
