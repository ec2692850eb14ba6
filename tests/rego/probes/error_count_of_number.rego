# input: {"n":5}
package probe.error_count_of_number

import rego.v1

result := count(input.n)
