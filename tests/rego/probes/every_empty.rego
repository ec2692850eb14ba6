# input: {"xs":[]}
package probe.every_empty

import rego.v1

result if {
	every x in input.xs {
		x > 100
	}
}
