# input: {"flag":false}
package probe.undefined_vs_false

import rego.v1

default result := "default"

result := "set" if input.flag == false
