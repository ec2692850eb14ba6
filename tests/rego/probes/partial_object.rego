# input: {"items":[{"name":"a","size":1},{"name":"b","size":2}]}
package probe.partial_object

import rego.v1

result[item.name] := item.size if {
	some item in input.items
}
