# input: {"a":1,"b":2}
package probe.error_conflicting_complete

import rego.v1

result := input.a

result := input.b
