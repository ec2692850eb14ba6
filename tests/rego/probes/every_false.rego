# input: {"xs":[1,2,3]}
package probe.every_false

import rego.v1

default result := "none"

result := "all" if {
	every x in input.xs {
		x > 1
	}
}
