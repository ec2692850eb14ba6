# input: {"m":{"a":[1],"b":[1,2]}}
package probe.comprehension_object

import rego.v1

result := {k: count(v) | some k, v in input.m}
