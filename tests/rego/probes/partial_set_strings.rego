# input: {"items":[{"name":"b"},{"name":"a"},{"name":"b"}]}
package probe.partial_set_strings

import rego.v1

result contains name if {
	some item in input.items
	name := item.name
}
