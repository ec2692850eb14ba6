# input: {"flag":false}
package probe.false_value_defined

import rego.v1

result := input.flag
