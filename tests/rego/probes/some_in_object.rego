# input: {"obj":{"a":true,"b":false,"c":true}}
package probe.some_in_object

import rego.v1

result contains k if {
	some k, v in input.obj
	v == true
}
