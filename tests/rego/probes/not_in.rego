# input: {"xs":[1,2]}
package probe.not_in

import rego.v1

result if not 5 in input.xs
