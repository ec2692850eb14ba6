# input: {}
package probe.function_undefined_arg

import rego.v1

f(x) := x + 1

result := f(input.missing)
