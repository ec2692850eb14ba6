# input: {"flag":true}
package probe.multi_value_union

import rego.v1

result contains 1 if true

result contains 2 if input.flag

result contains 3 if not input.flag
