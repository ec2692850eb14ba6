# input: {}
package probe.else_default_false

import rego.v1

default result := false

result if input.missing == 1
