# input: {"xs":[1,2,3]}
package probe.every_true

import rego.v1

result if {
	every x in input.xs {
		x > 0
	}
}
